import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listRequest, measureListEngine, seededIndex } from '../../../bench/list-engine.ts';
import { listTargets } from '../../../bench/list-report.ts';
import { LIST_QUERIES } from '../../../bench/list-scaling.ts';

const at = new Date('2026-11-30T12:00:00Z');

test('a list query string is read as the handler reads it: defaults, sort and filters', () => {
  assert.deepEqual(listRequest('sort=-price&limit=20&q=steel%20rug', at), {
    sort: '-price',
    limit: 20,
    filters: { status: undefined, minPrice: undefined, maxPrice: undefined, currency: undefined, q: 'steel rug' },
    snapshot: at,
  });
  const defaults = listRequest('currency=EUR&minPrice=20000', at);
  assert.equal(defaults.sort, 'name');
  assert.equal(defaults.limit, 20);
  assert.equal(defaults.filters.minPrice, 20000);
  assert.throws(() => listRequest('sort=sideways', at));
});

test('the generated catalog holds the products asked for, all listable at the snapshot', () => {
  const index = seededIndex(500, at);
  assert.equal(index.current.size, 500);
  const engine = measureListEngine([500], [{ label: 'price', query: 'sort=price&limit=100' }], {
    rounds: 1,
    msPerMeasurement: 1,
  });
  assert.equal(engine[0]?.sizes[0]?.items, 100);
});

test('every query is timed at every size, and the report judges the growth', () => {
  const engine = measureListEngine([200, 2000], LIST_QUERIES, { rounds: 2, msPerMeasurement: 2 });
  assert.deepEqual(
    engine.map((c) => c.label),
    LIST_QUERIES.map((q) => q.label),
  );
  for (const cost of engine) {
    assert.deepEqual(
      cost.sizes.map((s) => s.products),
      [200, 2000],
    );
    for (const size of cost.sizes) assert.ok(Number.isFinite(size.micros) && size.micros > 0, cost.label);
  }
  const unfiltered = engine.find((c) => c.label === 'updatedAt');
  assert.deepEqual(
    unfiltered?.sizes.map((s) => s.items),
    [20, 20],
  );

  const slower = engine.map((c) => ({
    ...c,
    sizes: [c.sizes[0], { ...c.sizes[0], products: 2000, micros: (c.sizes[0]?.micros ?? 0) * 2.5 }],
  }));
  const judged = (e: typeof engine) =>
    listTargets({ sizes: [], engine: e, notes: [] }).find((t) => t.name.includes("engine's own work"));
  assert.equal(judged(slower as typeof engine)?.passed, false);
  assert.match(judged(slower as typeof engine)?.detail ?? '', /worst 2\.50x/);
  const flat = engine.map((c) => ({ ...c, sizes: [c.sizes[0], { ...c.sizes[0], products: 2000 }] }));
  assert.equal(judged(flat as typeof engine)?.passed, true);
});

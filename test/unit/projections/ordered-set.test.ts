import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Direction, OrderedSet } from '../../../src/projections/ordered-set.ts';

/** Items are [key, weight]: ordered by key, weighted by weight. */
type Item = readonly [number, number];
const byKey = (a: Item, b: Item) => a[0] - b[0];

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), key: fc.integer({ min: 0, max: 3000 }), weight: fc.nat(100) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 3000 }) }),
);

/** The model: a sorted array kept the naive way. */
function apply(ops: { kind: 'add' | 'delete'; key: number; weight?: number }[]) {
  const set = new OrderedSet<Item>(byKey, { weight: (item) => item[1] });
  const model: Item[] = [];
  for (const o of ops) {
    const at = model.findIndex((m) => m[0] >= o.key);
    const present = at !== -1 && model[at]?.[0] === o.key;
    if (o.kind === 'add') {
      const item: Item = [o.key, o.weight ?? 0];
      assert.equal(set.add(item), !present, `add ${o.key}`);
      if (!present) model.splice(at === -1 ? model.length : at, 0, item);
    } else {
      assert.equal(set.delete([o.key, 0]), present, `delete ${o.key}`);
      if (present) model.splice(at, 1);
    }
  }
  return { set, model };
}

function walked(set: OrderedSet<Item>, direction: Direction, started: (i: Item) => boolean, heavierThan?: number) {
  const out: Item[] = [];
  const walk = set.walk(direction, started, heavierThan);
  for (let item = walk.current; item !== undefined; item = walk.advance()) out.push(item);
  return out;
}

test('holds exactly the items a sorted array holds, through any adds and deletes', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3000, size: 'max' }), (ops) => {
      const { set, model } = apply(ops);
      assert.equal(set.size, model.length);
      assert.deepEqual(set.toArray(), model);
    }),
    { numRuns: 60 },
  );
});

test('walks either way from any start, skipping what is not heavier than a threshold, as the model does', () => {
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 2500, size: 'max' }),
      fc.integer({ min: -1, max: 3001 }),
      fc.constantFrom<Direction>(1, -1),
      fc.option(fc.integer({ min: -1, max: 100 }), { nil: undefined }),
      (ops, from, direction, heavierThan) => {
        const { set, model } = apply(ops);
        // Ascending: keys >= from; descending: keys <= from (monotone along the direction).
        const started = (item: Item) => (direction === 1 ? item[0] >= from : item[0] <= from);
        const expected = (direction === 1 ? model : [...model].reverse())
          .filter(started)
          .filter((item) => heavierThan === undefined || item[1] > heavierThan);
        assert.deepEqual(walked(set, direction, started, heavierThan), expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('stays ordered and balanced through a large churn (three levels of nodes)', () => {
  const set = new OrderedSet<Item>(byKey, { weight: (item) => item[1] });
  const model = new Map<number, number>();
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 60_000; i++) {
    const key = Math.floor(random() * 400_000);
    if (random() < 0.7) {
      const weight = Math.floor(random() * 1000);
      if (!model.has(key)) model.set(key, weight);
      set.add([key, weight]);
    } else {
      model.delete(key);
      set.delete([key, 0]);
    }
  }
  const expected = [...model.entries()].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(set.toArray(), expected);
  assert.deepEqual(
    walked(set, -1, (item) => item[0] < 200_000, 990),
    expected.filter(([k, w]) => k < 200_000 && w > 990).reverse(),
  );
  for (const [key] of expected) set.delete([key, 0]);
  assert.equal(set.size, 0);
  assert.deepEqual(set.toArray(), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ListScalingResult, listTargets, renderListScaling } from '../../../bench/list-report.ts';
import { bestOfRounds } from '../../../bench/list-scaling.ts';
import type { Measurement } from '../../../bench/report.ts';

const measured = (throughput: number, p99 = 50): Measurement => ({
  target: 'ours',
  requests: throughput * 10,
  seconds: 10,
  throughput,
  latencyMs: { p50: p99 / 2, p90: p99, p99, max: p99 },
  errors: 0,
  outcomes: {},
});

const size = (products: number, page: number, trivial?: number) => ({
  products,
  seededSeconds: 0,
  getById: measured(4000),
  ...(trivial === undefined ? {} : { trivial: measured(trivial) }),
  lists: [{ label: 'name', query: 'sort=name', measurement: measured(page) }],
});

const growthTargets = (result: ListScalingResult) =>
  listTargets(result).filter((t) => /its time at|trivial/.test(t.name));

test('a page that took 2.5x its time while the trivial endpoint took 1.5x its own is 1.67x once corrected', () => {
  const [raw, corrected] = growthTargets({
    sizes: [size(10_000, 2500, 15_000), size(100_000, 1000, 10_000)],
    notes: [],
  });
  assert.equal(raw?.passed, false);
  assert.match(raw?.detail ?? '', /worst 2\.50x/);
  assert.equal(corrected?.passed, true);
  assert.match(corrected?.detail ?? '', /worst 1\.67x \(the trivial endpoint took 1\.50x/);
});

test('a machine that got faster does not hide a page that got slower', () => {
  const [raw, corrected] = growthTargets({
    sizes: [size(10_000, 2000, 10_000), size(100_000, 1000, 12_000)],
    notes: [],
  });
  assert.equal(raw?.passed, true);
  assert.equal(corrected?.passed, false);
  assert.match(corrected?.detail ?? '', /worst 2\.40x/);
});

test('without the trivial endpoint at both sizes there is no corrected figure', () => {
  const targets = growthTargets({ sizes: [size(10_000, 2000, 10_000), size(100_000, 1000)], notes: [] });
  assert.equal(targets.length, 1);
});

test('each probe keeps its fastest round, and the rounds measure the probes in turn', async () => {
  const throughputs: Record<string, number[]> = { list: [900, 1500], byId: [4000, 3000] };
  const order: string[] = [];
  const best = await bestOfRounds(2, [{ key: 'list' }, { key: 'byId' }], async (probe, round) => {
    order.push(`${probe.key}#${round}`);
    return measured(throughputs[probe.key]?.[round - 1] ?? 0);
  });
  assert.deepEqual(order, ['list#1', 'byId#1', 'list#2', 'byId#2']);
  assert.equal(best.get('list')?.throughput, 1500);
  assert.equal(best.get('byId')?.throughput, 4000);
});

test("the list engine's own cost per page is rendered per size, with its growth", () => {
  const engine = [
    {
      label: 'name',
      query: 'sort=name',
      sizes: [
        { products: 10_000, micros: 60, items: 20 },
        { products: 100_000, micros: 90, items: 20 },
      ],
    },
  ];
  const lines = renderListScaling({ sizes: [size(10_000, 2000), size(100_000, 1800)], engine, notes: [] });
  assert.ok(lines.includes('| list name | 60.0 | 20 | 90.0 | 20 | 1.50x |'), lines.join('\n'));
  assert.ok(lines.some((l) => /^- met: the same, the list engine's own work .*: worst 1\.50x$/.test(l)));
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OperationsMonitor, parkedOf, ratesBetween } from '../../../src/projections/operations/monitor.ts';
import type { ActorProgress } from '../../../src/projections/partition-actor.ts';
import type { ProjectionsStatus } from '../../../src/projections/status.ts';

const status = (group: string, partitions: [number, number][]): ProjectionsStatus => ({
  topic: 'product-events',
  consumerGroup: group,
  generation: 1,
  totalLag: partitions.reduce((sum, [committed, end]) => sum + end - committed, 0),
  partitions: partitions.map(([committed, end], partition) => ({
    partition,
    committedOffset: committed,
    endOffset: end,
    lag: end - committed,
    lastEventAt: null,
    ownedHere: true,
    state: 'running',
    pausedReason: null,
    gaps: null,
  })),
});

const actor = (partition: number, parkedAt: string[]): ActorProgress => ({
  partition,
  status: 'running',
  committedOffset: 0,
  appliedOffset: 0,
  highWatermark: 0,
  lastEventAt: null,
  pausedReason: null,
  parkedCount: parkedAt.length,
  oldestParkedAt: parkedAt[0] ?? null,
  staleParked: 0,
  parked: parkedAt.map((at, i) => ({
    partition,
    aggregateId: `p${partition}-${i}`,
    version: 3,
    offset: i,
    parkedAt: at,
  })),
});

describe('operations monitor', () => {
  test('rates come from the end and committed offsets of two samples; a new consumer group restarts the projected rate', () => {
    const first = { atMs: 0, consumerGroup: 'g1', published: 100, projected: 50 };
    assert.deepEqual(ratesBetween(undefined, first), { publishedPerSecond: null, projectedPerSecond: null });
    const second = { atMs: 2000, consumerGroup: 'g1', published: 300, projected: 90 };
    assert.deepEqual(ratesBetween(first, second), { publishedPerSecond: 100, projectedPerSecond: 20 });
    const switched = { atMs: 4000, consumerGroup: 'g2', published: 300, projected: 0 };
    assert.deepEqual(ratesBetween(second, switched), { publishedPerSecond: 0, projectedPerSecond: null });
  });

  test('parked events: the longest parked first, with their age, counted over every local partition', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const parked = parkedOf(
      [actor(0, ['2026-01-01T00:00:30Z']), actor(1, ['2026-01-01T00:00:00Z', '2026-01-01T00:00:50Z'])],
      now,
      2,
    );
    assert.equal(parked.count, 3);
    assert.deepEqual(
      parked.longest.map((p) => [p.aggregateId, p.ageSeconds]),
      [
        ['p1-0', 60],
        ['p0-0', 30],
      ],
    );
  });

  test('a sample carries status, rates and parked counts; the history keeps only the window', async () => {
    let now = 0;
    const samples = [
      status('g1', [
        [0, 10],
        [5, 5],
      ]),
      status('g1', [
        [10, 20],
        [5, 9],
      ]),
      status('g1', [
        [20, 20],
        [9, 9],
      ]),
    ];
    const monitor = new OperationsMonitor(
      {
        status: async () => samples.shift() as ProjectionsStatus,
        local: () => [actor(0, ['1970-01-01T00:00:00Z'])],
        rebuild: () => null,
        startedAt: new Date(0),
        now: () => now,
      },
      1500,
    );
    await monitor.sample();
    now = 1000;
    const second = await monitor.sample();
    assert.deepEqual(second.rates, { publishedPerSecond: 14, projectedPerSecond: 10 });
    assert.deepEqual(
      second.partitions.map((p) => p.parked),
      [1, null],
    );
    assert.equal(second.parked.longest[0]?.ageSeconds, 1);
    now = 2000;
    await monitor.sample();
    const history = monitor.history();
    assert.equal(history.windowSeconds, 2);
    assert.deepEqual(
      history.points.map((p) => [p.at, p.lags]),
      [
        ['1970-01-01T00:00:01.000Z', [10, 4]],
        ['1970-01-01T00:00:02.000Z', [0, 0]],
      ],
    );
  });
});

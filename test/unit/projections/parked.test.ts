import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupParked, type ParkedEventDoc, summarizeParked } from '../../../src/projections/parked.ts';
import { StreamBuilder } from './stream-builder.ts';

const parkedDoc = (aggregateId: string, version: number, parkedAt: number): ParkedEventDoc => ({
  _id: `${aggregateId}-${version}`,
  partition: 0,
  aggregateId,
  version,
  offset: version,
  envelope: new StreamBuilder().created(),
  parkedAt: new Date(parkedAt),
});

describe('parked events summary', () => {
  test('counts every parked event, finds the oldest, and counts those past the stale bound', () => {
    const parked = groupParked([parkedDoc('a', 3, 1_000), parkedDoc('a', 4, 5_000), parkedDoc('b', 2, 40_000)]);
    assert.deepEqual(summarizeParked(parked, 62_000, 60_000), { count: 3, oldestParkedAt: new Date(1_000), stale: 1 });
    assert.deepEqual(summarizeParked(parked, 120_000, 60_000), { count: 3, oldestParkedAt: new Date(1_000), stale: 3 });
  });

  test('nothing parked: no oldest, nothing stale', () => {
    assert.deepEqual(summarizeParked(new Map(), 1_000, 60_000), { count: 0, oldestParkedAt: null, stale: 0 });
  });
});

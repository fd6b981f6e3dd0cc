import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publishedSince } from '../../../src/projections/rebuild.ts';

const offsets = (...ends: number[]) => new Map(ends.map((end, partition) => [partition, end]));

test('a topic whose ends are still the handover offsets has nothing to catch up', () => {
  assert.equal(publishedSince(offsets(10, 0, 7), offsets(10, 0, 7)), 0);
});

test('what each partition received since the handover adds up', () => {
  assert.equal(publishedSince(offsets(10, 0, 7), offsets(12, 3, 7)), 5);
});

test('a partition the handover did not record counts from its start', () => {
  assert.equal(publishedSince(offsets(10), offsets(10, 4)), 4);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offPreferredLeader } from '../../../scripts/stack/kafka.ts';

test('a partition led by its first replica is on its preferred leader', () => {
  const topics = [
    {
      name: 'product-events',
      partitions: [
        { partitionId: 0, leader: 2, replicas: [2, 3, 1] },
        { partitionId: 1, leader: 3, replicas: [3, 1, 2] },
      ],
    },
  ];
  assert.deepEqual(offPreferredLeader(topics), []);
});

test('every partition led by another replica is named, in every topic', () => {
  const topics = [
    {
      name: 'product-events',
      partitions: [
        { partitionId: 0, leader: 2, replicas: [1, 2, 3] },
        { partitionId: 1, leader: 2, replicas: [2, 3, 1] },
      ],
    },
    { name: '__consumer_offsets', partitions: [{ partitionId: 7, leader: 1, replicas: [3, 1, 2] }] },
  ];
  assert.deepEqual(offPreferredLeader(topics), ['product-events/0', '__consumer_offsets/7']);
});

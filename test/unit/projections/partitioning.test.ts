import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type PartitionerArgs, Partitioners } from 'kafkajs';
import { murmur2, partitionerFor } from '../../../src/projections/partitioning.ts';

describe('the partition of a product', () => {
  test("is Java's murmur2 of the key modulo the partition count, as every producer computes it", () => {
    // Kafka's own murmur2 test vectors (UtilsTest), positive-masked and taken modulo 12.
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    const of12 = partitionerFor(12);
    for (const [key, hash] of vectors) assert.equal(of12(key), (hash & 0x7fffffff) % 12, key);
    for (const [key, hash] of vectors) assert.equal(murmur2(Buffer.from(key)), hash, key);
    assert.equal(partitionerFor(1)('anything'), 0);
    assert.throws(() => partitionerFor(0), /partition count/);
  });

  test('is the partition the producers pick, for any key and partition count', () => {
    const producer = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        fc.oneof(fc.uuid(), fc.string({ unit: 'binary' })),
        fc.integer({ min: 1, max: 200 }),
        (key, count) => {
          const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
            partitionId,
            leader: 0,
          })) as PartitionerArgs['partitionMetadata'];
          const picked = producer({ topic: 't', partitionMetadata, message: { key, value: null } });
          assert.equal(partitionerFor(count)(key), picked);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

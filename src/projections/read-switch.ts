import type { Admin } from 'kafkajs';
import type { Db } from '../infra/mongo.ts';
import { viewCollections } from './view-store.ts';
import { readShards } from './views/catalog-stats/query.ts';

export interface PartitionBehind {
  partition: number;
  /** The last offset the views being replaced applied. */
  applied: number;
  /** The next offset the new generation's group will consume (everything before it is fully written). */
  committed: number;
}

/**
 * The partitions where a new generation has not yet fully written everything the generation it
 * replaces applied. A shard's offset is written before the chunk's products, so it is the furthest
 * the old views can show; a group's committed offset is committed after the chunk's products, so
 * everything before it is in the new views. While this is not empty, a read switched to the new
 * generation could answer an older version of a product than a read of the old one did.
 */
export async function partitionsBehind(
  admin: Admin,
  db: Db,
  topic: string,
  from: number,
  toGroup: string,
): Promise<PartitionBehind[]> {
  const [shards, offsets] = await Promise.all([
    readShards(viewCollections(db, from).stats),
    admin.fetchOffsets({ groupId: toGroup, topics: [topic] }),
  ]);
  const committed = new Map(
    (offsets.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  return shards
    .map((shard) => ({
      partition: shard.partition,
      applied: shard.offset,
      committed: committed.get(shard.partition) ?? -1,
    }))
    .filter((p) => p.applied >= 0 && p.committed <= p.applied)
    .sort((a, b) => a.partition - b.partition);
}

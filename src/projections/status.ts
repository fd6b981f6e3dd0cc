import type { Admin } from 'kafkajs';
import type { ActorProgress } from './partition-actor.ts';
import type { StatsShard } from './views/catalog-stats/view.ts';

export interface PartitionStatus {
  partition: number;
  /** Next offset the group will consume; null when the group never committed on this partition. */
  committedOffset: number | null;
  endOffset: number;
  /** Records not yet in the views: from the applied offset where this process owns the partition, else the committed one. */
  lag: number;
  lastEventAt: string | null;
  /** Whether this process owns the partition now, and what its actor is doing. */
  ownedHere: boolean;
  state: ActorProgress['status'] | null;
  pausedReason: string | null;
  /** Events waiting for a missing version, where this process owns the partition and holds its state (null elsewhere). */
  gaps: { count: number; oldestParkedAt: string | null; stale: number } | null;
}

export interface ProjectionsStatus {
  topic: string;
  consumerGroup: string;
  generation: number;
  totalLag: number;
  partitions: PartitionStatus[];
}

/**
 * Progress of the whole consumer group, whichever process owns each partition: committed and end
 * offsets from Kafka, the last event time from the stats shards, and local detail where this process
 * owns the partition.
 */
export async function projectionsStatus(input: {
  admin: Admin;
  topic: string;
  groupId: string;
  generation: number;
  shards: StatsShard[];
  local: ActorProgress[];
}): Promise<ProjectionsStatus> {
  const { admin, topic, groupId } = input;
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committedBy = new Map(
    (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  const shardBy = new Map(input.shards.map((s) => [s.partition, s]));
  const localBy = new Map(input.local.map((p) => [p.partition, p]));
  const partitions = ends
    .map(({ partition, high, low }): PartitionStatus => {
      const end = Number(high);
      const stored = committedBy.get(partition);
      const committedOffset = stored === undefined || stored < 0 ? null : stored;
      const local = localBy.get(partition);
      return {
        partition,
        committedOffset,
        endOffset: end,
        lag: Math.max(0, end - (local?.appliedOffset ?? committedOffset ?? Number(low))),
        lastEventAt: shardBy.get(partition)?.lastEventAt?.toISOString() ?? null,
        ownedHere: local !== undefined,
        state: local?.status ?? null,
        pausedReason: local?.pausedReason ?? null,
        gaps:
          local && local.parkedCount !== null
            ? { count: local.parkedCount, oldestParkedAt: local.oldestParkedAt, stale: local.staleParked }
            : null,
      };
    })
    .sort((a, b) => a.partition - b.partition);
  return {
    topic,
    consumerGroup: groupId,
    generation: input.generation,
    totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  };
}

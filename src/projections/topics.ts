import type { Admin } from 'kafkajs';

/**
 * Creates the event topic and the dead-letter topic when they do not exist yet (whichever service
 * starts first), with the partition count and replication factor of the configuration. Returns the
 * event topic's partition count as the cluster has it.
 */
export async function ensureTopics(
  admin: Admin,
  options: { topic: string; deadLetterTopic: string; partitions: number; replicationFactor: number },
): Promise<number> {
  const existing = new Set(await admin.listTopics());
  const missing = [
    { topic: options.topic, numPartitions: options.partitions },
    { topic: options.deadLetterTopic, numPartitions: Math.min(3, options.partitions) },
  ].filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ ...t, replicationFactor: options.replicationFactor })),
    });
  }
  const { topics } = await admin.fetchTopicMetadata({ topics: [options.topic] });
  return topics[0]?.partitions.length ?? options.partitions;
}

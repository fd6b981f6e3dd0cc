import type { Admin, Producer } from 'kafkajs';
import { EVENT_HEADERS, sendWhole } from '../../../../src/infra/kafka.ts';
import type { Sql } from '../../../../src/infra/postgres.ts';
import type { ProductEnvelope } from '../../../../src/projections/record.ts';

const replicationFactor = Number(process.env.KAFKA_REPLICATION_FACTOR ?? 3);

export async function createTopics(admin: Admin, topics: { topic: string; partitions: number }[]): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: topics.map(({ topic, partitions }) => ({ topic, numPartitions: partitions, replicationFactor })),
  });
}

/** The Kafka record the command side publishes for an event (DESIGN.md section 2). */
export const recordOf = (event: ProductEnvelope) => ({
  key: event.aggregateId,
  value: JSON.stringify(event),
  headers: {
    [EVENT_HEADERS.eventType]: event.type,
    [EVENT_HEADERS.aggregateVersion]: String(event.version),
    [EVENT_HEADERS.schemaVersion]: String(event.schemaVersion),
    [EVENT_HEADERS.contentType]: 'application/json',
  },
});

export async function publish(
  producer: Producer,
  topic: string,
  events: ProductEnvelope[],
  batch = 500,
): Promise<void> {
  for (let i = 0; i < events.length; i += batch) {
    await sendWhole(producer, { topic, messages: events.slice(i, i + batch).map(recordOf) });
  }
}

/** Stores events in the event store as the command side appends them, so `verify` can fold them. */
export async function storeEvents(sql: Sql, events: ProductEnvelope[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const rows = events.slice(i, i + 1000).map((e) => ({
      event_id: e.eventId,
      aggregate_id: e.aggregateId,
      version: e.version,
      type: e.type,
      schema_version: e.schemaVersion,
      data: sql.json(e.data as never),
      metadata: sql.json(e.metadata as never),
      occurred_at: e.occurredAt,
    }));
    await sql`insert into events ${sql(rows)}`;
  }
}

/**
 * Deletes what a test created on the cluster: its topics and its consumer groups (`<group>.g<n>` per
 * views generation). A member killed with SIGKILL stays in its group until its session times out, so
 * group deletion is retried for a while. A failure is reported, not thrown: the assertions already ran.
 */
export async function removeFromKafka(admin: Admin, topics: string[], groups: string[]): Promise<void> {
  try {
    await admin.deleteTopics({ topics });
    const listed = (await admin.listGroups()).groups.map((g) => g.groupId);
    const ours = listed.filter((id) => groups.some((base) => id === base || id.startsWith(`${base}.g`)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if (ours.length > 0) await admin.deleteGroups(ours);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  } catch (error) {
    console.warn(`# cleanup of ${topics.join(', ')} incomplete: ${(error as Error).message}`);
  }
}

import { Kafka, logLevel } from 'kafkajs';
import type postgres from 'postgres';
import type { StoredEvent, TopicRecord } from './checks.ts';

/**
 * Reads what the chaos checks compare: the load's products' streams in the event store, and their
 * records on the event topic, read by a fresh consumer group.
 */

export async function storedEvents(sql: postgres.Sql, ids: readonly string[]): Promise<Map<string, StoredEvent[]>> {
  const byId = new Map<string, StoredEvent[]>(ids.map((id) => [id, []]));
  for (let i = 0; i < ids.length; i += 5_000) {
    const chunk = ids.slice(i, i + 5_000) as string[];
    const rows = await sql`
      select aggregate_id, version, type, event_id, metadata->>'idempotencyKey' as idempotency_key
      from events where aggregate_id = any(${chunk}::uuid[])
      order by aggregate_id, version`;
    for (const r of rows) {
      byId.get(r.aggregate_id as string)?.push({
        aggregateId: r.aggregate_id as string,
        version: r.version as number,
        type: r.type as string,
        eventId: r.event_id as string,
        idempotencyKey: (r.idempotency_key as string | null) ?? undefined,
      });
    }
  }
  // Products whose create never committed have no stream: nothing to find on the topic either.
  for (const [id, events] of byId) if (events.length === 0) byId.delete(id);
  return byId;
}

const kafka = (brokers: string[], clientId: string) =>
  new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 8, initialRetryTime: 250 },
  });

export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** The topic's end offsets now: where a reader of what comes later can start. */
export async function endOffsets(brokers: string[], topic: string): Promise<PartitionOffset[]> {
  const admin = kafka(brokers, 'chaos-offsets').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export interface TopicRead {
  records: Map<string, TopicRecord[]>;
  /** True when every expected event arrived before the timeout. */
  complete: boolean;
  elapsedMs: number;
}

/**
 * Reads the topic with a fresh consumer group until every expected event has arrived or
 * `timeoutMs` has passed, and returns the records of the expected keys in the order they were
 * consumed (per partition, offset order). The group seeks to `start` (the end offsets taken when
 * the run began, before the load created its first product, so every event of the load's products
 * lies after them; a topic on a long-lived stack may hold millions of older records) and is
 * deleted afterwards.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  groupId: string,
  start: readonly PartitionOffset[],
  expected: ReadonlyMap<string, readonly StoredEvent[]>,
  timeoutMs: number,
): Promise<TopicRead> {
  const t0 = Date.now();
  const wanted = new Map<string, Set<string>>();
  for (const [id, events] of expected) wanted.set(id, new Set(events.map((e) => e.eventId)));
  let missing = [...wanted.values()].reduce((n, s) => n + s.size, 0);
  const records = new Map<string, TopicRecord[]>([...expected.keys()].map((id) => [id, []]));
  const startOf = new Map(start.map((s) => [s.partition, s.offset]));
  const client = kafka(brokers, 'chaos-check');
  const admin = client.admin();
  await admin.connect();
  // A short fetch wait: disconnect() waits for the fetch in flight, which idles up to this long.
  const consumer = client.consumer({
    groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 10_000,
    maxWaitTimeInMs: 250,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let everything: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      everything = resolve;
    });
    if (missing === 0) everything();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const from = BigInt(startOf.get(batch.partition) ?? '0');
        for (const message of batch.messages) {
          // A fetch that ran before the seek below took effect: older records are not the run's.
          if (BigInt(message.offset) < from) continue;
          const key = message.key?.toString('utf8');
          const list = key === undefined ? undefined : records.get(key);
          if (key === undefined || !list) continue;
          let envelope: { eventId?: string; version?: number };
          try {
            envelope = JSON.parse(message.value?.toString('utf8') ?? 'null') ?? {};
          } catch {
            envelope = {};
          }
          const eventId = String(envelope.eventId);
          list.push({
            key,
            partition: batch.partition,
            offset: message.offset,
            version: Number(envelope.version),
            eventId,
          });
          if (wanted.get(key)?.delete(eventId)) {
            missing -= 1;
            if (missing === 0) everything();
          }
        }
      },
    });
    // After run(): the group's first fetch of each partition starts at the run's start offsets.
    for (const { partition, offset } of start) consumer.seek({ topic, partition, offset });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([arrived, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
  return { records, complete: missing === 0, elapsedMs: Date.now() - t0 };
}

import assert from 'node:assert/strict';
import type postgres from 'postgres';
import { eventually, kafkaClient, uniqueName } from './env.ts';

/**
 * What the integration tests compare: a product's stream in the event store, and the records of
 * the event topic (the tests' own, `eventTopic`) read from the beginning by a fresh consumer group.
 */

export interface StoredRow {
  aggregateId: string;
  version: number;
  type: string;
  eventId: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export async function storedEvents(sql: postgres.Sql, ids: readonly string[]): Promise<Map<string, StoredRow[]>> {
  const rows = await sql`
    select aggregate_id, version, type, event_id, data, metadata
    from events where aggregate_id = any(${ids as string[]}::uuid[])
    order by aggregate_id, version`;
  const byId = new Map<string, StoredRow[]>(ids.map((id) => [id, []]));
  for (const r of rows) {
    byId.get(r.aggregate_id as string)?.push({
      aggregateId: r.aggregate_id as string,
      version: r.version as number,
      type: r.type as string,
      eventId: r.event_id as string,
      data: r.data as Record<string, unknown>,
      metadata: r.metadata as Record<string, unknown>,
    });
  }
  return byId;
}

export async function eventCount(sql: postgres.Sql, id: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from events where aggregate_id = ${id}`;
  return row?.n as number;
}

/** Every stream holds versions 1..n exactly: the unique key allows no duplicate, and there is no gap. */
export function assertContiguous(streams: Map<string, StoredRow[]>): void {
  for (const [id, events] of streams) {
    assert.deepEqual(
      events.map((e) => e.version),
      events.map((_, i) => i + 1),
      `versions of ${id} are 1..n`,
    );
  }
}

export interface TopicRecord {
  partition: number;
  offset: string;
  key: string;
  version: number;
  eventId: string;
  type: string;
  headers: Record<string, string>;
}

/**
 * Reads the whole topic from the beginning with a fresh consumer group until every given event
 * has arrived, then returns the records of the given keys in consumption order (per partition,
 * offset order).
 */
export async function readTopicUntil(
  topic: string,
  expected: Map<string, StoredRow[]>,
  { timeoutMs = 120_000 } = {},
): Promise<Map<string, TopicRecord[]>> {
  const wanted = new Map<string, Set<string>>();
  for (const [id, events] of expected) wanted.set(id, new Set(events.map((e) => e.eventId)));
  let missing = [...wanted.values()].reduce((n, s) => n + s.size, 0);
  const records = new Map<string, TopicRecord[]>([...expected.keys()].map((id) => [id, []]));
  const consumer = kafkaClient(uniqueName('command-it')).consumer({
    groupId: uniqueName('command-it'),
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8');
          if (key === undefined) continue;
          const list = records.get(key);
          if (!list) continue;
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
          const envelope = JSON.parse(message.value?.toString('utf8') ?? 'null') as {
            eventId: string;
            version: number;
            type: string;
          };
          list.push({
            partition: batch.partition,
            offset: message.offset,
            key,
            version: envelope.version,
            eventId: envelope.eventId,
            type: envelope.type,
            headers,
          });
          if (wanted.get(key)?.delete(envelope.eventId)) missing -= 1;
        }
      },
    });
    await eventually(async () => missing === 0, {
      timeoutMs,
      intervalMs: 250,
      what: `every committed event on ${topic}`,
    }).catch((error: Error) => {
      const sample = [...wanted].filter(([, s]) => s.size > 0).slice(0, 3);
      throw new Error(
        `${error.message}; ${missing} missing, e.g. ${JSON.stringify(sample.map(([k, s]) => [k, s.size]))}`,
      );
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return records;
}

/**
 * The topic holds exactly the stored events of each key (duplicates allowed), all in one partition,
 * with the headers DESIGN.md lists; read in offset order, the first occurrences of the versions are
 * 1, 2, ... n: no event overtakes an earlier one, and a duplicate is an exact copy of one seen before.
 */
export function assertTopicMatchesStore(
  stored: Map<string, StoredRow[]>,
  topic: Map<string, TopicRecord[]>,
): { records: number; duplicates: number } {
  let total = 0;
  let duplicates = 0;
  for (const [id, events] of stored) {
    const records = topic.get(id) ?? [];
    total += records.length;
    const partitions = new Set(records.map((r) => r.partition));
    assert.equal(partitions.size, 1, `all records of ${id} are in one partition`);
    let highest = 0;
    for (const record of records) {
      const event = events[record.version - 1];
      assert.ok(event, `${id}: Kafka has version ${record.version}, which the event store does not`);
      assert.equal(record.eventId, event.eventId, `${id} v${record.version}: same event id as the store`);
      assert.equal(record.type, event.type, `${id} v${record.version}: same type as the store`);
      assert.equal(record.headers['event-type'], event.type);
      assert.equal(record.headers['aggregate-version'], String(event.version));
      assert.equal(record.headers['schema-version'], '1');
      assert.equal(record.headers['content-type'], 'application/json');
      if (record.version <= highest) {
        duplicates += 1;
        continue;
      }
      assert.equal(
        record.version,
        highest + 1,
        `${id}: version ${record.version} arrived after ${highest} (offset ${record.offset}): out of order`,
      );
      highest = record.version;
    }
    assert.equal(highest, events.length, `${id}: every stored version reached Kafka`);
  }
  return { records: total, duplicates };
}

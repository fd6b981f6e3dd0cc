/**
 * The pure part of the chaos checks: given what the event store holds for the load's products,
 * what the load was told (its acknowledged writes), and what a fresh consumer read from the topic,
 * name every acknowledged write that is missing, every Idempotency-Key applied twice, and every
 * gap or reordering on the topic. No I/O here, so each rule is unit-tested.
 */

export type WriteKind = 'create' | 'price' | 'restock' | 'reserve';

export const EVENT_TYPE: Record<WriteKind, string> = {
  create: 'ProductCreated',
  price: 'ProductPriceChanged',
  restock: 'ProductRestocked',
  reserve: 'StockReserved',
};

/** One row of the `events` table, as far as the checks need it. */
export interface StoredEvent {
  aggregateId: string;
  version: number;
  type: string;
  eventId: string;
  idempotencyKey?: string | undefined;
}

/** A write the command service answered 2xx (first answer or a retry's, replayed or not). */
export interface AckedWrite {
  key: string;
  productId: string;
  kind: WriteKind;
  /** The version the answer carried. */
  version: number;
}

export interface LostWrite {
  key: string;
  productId: string;
  kind: WriteKind;
  version: number;
  reason: string;
}

/**
 * Every acknowledged write must be in the store as the event that carries its Idempotency-Key, on
 * its product, at the version the answer gave, of the type its command makes.
 */
export function findLost(
  stored: ReadonlyMap<string, readonly StoredEvent[]>,
  acked: readonly AckedWrite[],
): LostWrite[] {
  const byKey = new Map<string, StoredEvent>();
  for (const events of stored.values()) {
    for (const event of events) if (event.idempotencyKey !== undefined) byKey.set(event.idempotencyKey, event);
  }
  const lost: LostWrite[] = [];
  for (const write of acked) {
    const event = byKey.get(write.key);
    const miss = (reason: string) => lost.push({ ...write, reason });
    if (!event) miss('no event carries its Idempotency-Key');
    else if (event.aggregateId !== write.productId) miss(`its event is on product ${event.aggregateId}`);
    else if (event.version !== write.version) miss(`answered version ${write.version}, stored at ${event.version}`);
    else if (event.type !== EVENT_TYPE[write.kind]) miss(`stored as ${event.type}`);
  }
  return lost;
}

/** Idempotency-Keys that more than one event carries: a retried write applied twice. */
export function findDuplicateKeys(stored: ReadonlyMap<string, readonly StoredEvent[]>): string[] {
  const seen = new Map<string, number>();
  for (const events of stored.values()) {
    for (const event of events) {
      if (event.idempotencyKey !== undefined) seen.set(event.idempotencyKey, (seen.get(event.idempotencyKey) ?? 0) + 1);
    }
  }
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}

/** Streams whose versions are not exactly 1..n (the store's own invariant). */
export function findStreamGaps(stored: ReadonlyMap<string, readonly StoredEvent[]>): string[] {
  const problems: string[] = [];
  for (const [id, events] of stored) {
    const versions = events.map((e) => e.version);
    if (versions.some((v, i) => v !== i + 1))
      problems.push(`${id}: stored versions ${versions.join(',')} are not 1..n`);
  }
  return problems;
}

/** One record of the topic, in the order a consumer received it. */
export interface TopicRecord {
  key: string;
  partition: number;
  offset: string;
  version: number;
  eventId: string;
}

export interface TopicCheck {
  /** Records of the load's products that were read. */
  records: number;
  /** Records that repeat a version already seen (allowed: the relay publishes at least once). */
  duplicates: number;
  /** Stored events that never arrived. */
  missing: number;
  /** Gaps, reorderings, foreign events, split partitions: each a failure. */
  problems: string[];
}

/**
 * The topic against the store, per product: all records in one partition; read in offset order,
 * the first occurrences of the versions are 1, 2, ... n with no gap and no step back; a repeated
 * version is the very same event (same id); every stored version arrives. Duplicates are allowed.
 */
export function checkTopic(
  stored: ReadonlyMap<string, readonly StoredEvent[]>,
  topic: ReadonlyMap<string, readonly TopicRecord[]>,
): TopicCheck {
  const result: TopicCheck = { records: 0, duplicates: 0, missing: 0, problems: [] };
  for (const [id, events] of stored) {
    const records = topic.get(id) ?? [];
    result.records += records.length;
    const partitions = new Set(records.map((r) => r.partition));
    if (partitions.size > 1) result.problems.push(`${id}: records in partitions ${[...partitions].join(',')}`);
    let highest = 0;
    const seen = new Set<number>();
    for (const record of records) {
      const event = events[record.version - 1];
      if (!event || event.version !== record.version) {
        result.problems.push(`${id}: the topic has version ${record.version}, which the event store does not`);
        continue;
      }
      if (record.eventId !== event.eventId) {
        result.problems.push(`${id} v${record.version}: event ${record.eventId} on the topic, ${event.eventId} stored`);
        continue;
      }
      if (seen.has(record.version)) {
        result.duplicates += 1;
        continue;
      }
      seen.add(record.version);
      if (record.version !== highest + 1) {
        result.problems.push(
          `${id}: version ${record.version} arrived after ${highest} (partition ${record.partition}, offset ${record.offset})`,
        );
      }
      highest = Math.max(highest, record.version);
    }
    // Only stored events that are wholly absent count as missing; a gap was named above.
    const arrived = new Set(records.map((r) => r.eventId));
    result.missing += events.filter((e) => !arrived.has(e.eventId)).length;
  }
  return result;
}

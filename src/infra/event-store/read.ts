import type { Envelope } from '../../domain/envelope.ts';
import type { Sql } from '../postgres.ts';

export interface StoredEvent extends Envelope {
  position: number;
}

/** An event read from the whole log, with its appending transaction's id (xid8, as text). */
export interface LoggedEvent extends StoredEvent {
  transactionId: string;
}

interface EventRow {
  position: string;
  event_id: string;
  aggregate_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Envelope['metadata'];
  occurred_at: Date;
}

export const toStoredEvent = (row: EventRow): StoredEvent => ({
  position: Number(row.position),
  eventId: row.event_id,
  type: row.type,
  aggregateId: row.aggregate_id,
  version: row.version,
  occurredAt: row.occurred_at.toISOString(),
  schemaVersion: row.schema_version,
  data: row.data,
  metadata: row.metadata,
});

/** One stream, in version order, optionally after a version (snapshot replay). */
export async function readStream(sql: Sql, aggregateId: string, afterVersion = 0): Promise<StoredEvent[]> {
  const rows = await sql<EventRow[]>`
    select position, event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at
    from events where aggregate_id = ${aggregateId} and version > ${afterVersion}
    order by version`;
  return rows.map(toStoredEvent);
}

/** What an actor needs to rebuild a product: the latest snapshot and the events after it. */
export interface StreamTail {
  snapshot?: { version: number; state: unknown };
  events: { type: string; version: number; data: unknown }[];
}

/** The latest snapshot and the events after it, in one round trip. */
export async function readStreamTail(sql: Sql, aggregateId: string): Promise<StreamTail> {
  const rows = await sql<{ type: string | null; version: number; data: unknown }[]>`
    with s as (select version, state from snapshots where aggregate_id = ${aggregateId})
    select null as type, version, state as data from s
    union all
    select type, version, data from events
    where aggregate_id = ${aggregateId} and version > coalesce((select version from s), 0)
    order by version`;
  const tail: StreamTail = { events: [] };
  for (const row of rows) {
    if (row.type === null) tail.snapshot = { version: row.version, state: row.data };
    else tail.events.push({ type: row.type, version: row.version, data: row.data });
  }
  return tail;
}

/** The stream's current version (0 when it has no event): one index probe, no event read. */
export async function readStreamVersion(sql: Sql, aggregateId: string): Promise<number> {
  const [row] =
    await sql`select coalesce(max(version), 0)::int as version from events where aggregate_id = ${aggregateId}`;
  return (row?.version as number | undefined) ?? 0;
}

/** Where a reader of the whole log stands: the commit order key of the last event it read. */
export interface LogCursor {
  transactionId: string;
  position: number;
}

export const LOG_START: LogCursor = { transactionId: '0', position: 0 };

/**
 * The whole log in commit order, a page at a time: events of transactions older than every
 * transaction still running, ordered by (transaction id, position). Positions alone are not
 * safe to page by: a transaction can take a position, stay open while a transaction with an older
 * id takes a higher one and commits, and a reader that moved past the higher position would never
 * see the lower one. Every transaction that commits later has an id at or above the horizon, so
 * the (transaction id, position) cursor never skips. A product's events keep their version order:
 * an append is decided only after the previous version committed, so its transaction is younger.
 */
export async function readAll(sql: Sql, after: LogCursor, limit: number): Promise<LoggedEvent[]> {
  const rows = await sql<(EventRow & { transaction_id: string })[]>`
    select position, event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at,
           transaction_id::text as transaction_id
    from events
    where (transaction_id, position) > (${after.transactionId}::xid8, ${after.position})
      and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    order by events.transaction_id, events.position
    limit ${limit}`;
  return rows.map((row) => ({ ...toStoredEvent(row), transactionId: row.transaction_id }));
}

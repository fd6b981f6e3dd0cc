import type { Sql } from '../postgres.ts';

export interface IdempotencyRecord {
  requestHash: string;
  aggregateId: string;
  outcome: unknown;
}

export async function findIdempotencyRecord(sql: Sql, key: string): Promise<IdempotencyRecord | undefined> {
  const [row] = await sql`select request_hash, aggregate_id, outcome from idempotency_keys where key = ${key}`;
  return row
    ? { requestHash: row.request_hash as string, aggregateId: row.aggregate_id as string, outcome: row.outcome }
    : undefined;
}

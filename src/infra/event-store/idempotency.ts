import type { Sql } from '../postgres.ts';

/**
 * Idempotency records are kept for a documented time (IDEMPOTENCY_TTL_HOURS): long enough for any
 * client's retries, short enough that the table stays small. A replay after that is a new request.
 */
export async function purgeIdempotencyKeys(sql: Sql, olderThanHours: number, limit: number): Promise<number> {
  const rows = await sql`
    delete from idempotency_keys where key in (
      select key from idempotency_keys where created_at < now() - make_interval(hours => ${olderThanHours})
      order by created_at limit ${limit})
    returning 1`;
  return rows.length;
}

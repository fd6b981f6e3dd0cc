import type { Envelope } from '../../domain/envelope.ts';
import type { postgres, Sql } from '../postgres.ts';

/**
 * Group commit: the appends of many commands (many actors) in one transaction, each still judged
 * on its own. A request fails alone when its version or SKU is taken, and leaves nothing behind;
 * the rest commit. A request whose Idempotency-Key is taken appends nothing and gets the stored
 * record back, so a replay is answered without a lookup before the command. Later requests of the
 * same aggregate in the batch were decided on top of a failed one, so they are returned
 * unattempted. The work is done by the `append_events` function (migration 3): one round trip and
 * one WAL flush for the whole batch.
 */

export interface AppendRequest {
  aggregateId: string;
  /** Consecutive versions following the stream's current version; may be empty (a stored rejection). */
  events: Envelope[];
  /** CreateProduct claims its SKU in the same transaction as its first event. */
  skuClaim?: string;
  idempotency?: { key: string; requestHash: string; outcome: unknown };
  snapshot?: { version: number; state: unknown };
}

/** What the first request with an Idempotency-Key stored: a replay answers from it. */
export interface IdempotencyRecord {
  requestHash: string;
  aggregateId: string;
  outcome: unknown;
}

export type AppendResult = 'ok' | 'version-conflict' | 'sku-taken' | 'not-attempted' | { replay: IdempotencyRecord };

/** The channel a command service NOTIFYs, after a commit, to wake the relay of another replica. */
export const OUTBOX_CHANNEL = 'catalog_outbox';

export async function appendBatch(sql: Sql, requests: readonly AppendRequest[]): Promise<AppendResult[]> {
  if (requests.length === 0) return [];
  const [row] = await sql`select append_events(${sql.json(requests as unknown as postgres.JSONValue)}) as results`;
  const results = row?.results as AppendResult[] | undefined;
  if (!Array.isArray(results) || results.length !== requests.length) {
    throw new Error(`append_events answered ${results?.length ?? 'nothing'} results for ${requests.length} requests`);
  }
  return results;
}

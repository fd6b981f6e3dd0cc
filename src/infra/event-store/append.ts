import type { Envelope } from '../../domain/envelope.ts';
import type { postgres, Sql } from '../postgres.ts';

/**
 * Group commit: the appends of many commands (many actors) in one transaction, each still judged
 * on its own. A request fails alone when its version, SKU or idempotency key is taken, and leaves
 * nothing behind; the rest commit. Later requests of the same aggregate in the batch were decided
 * on top of the failed one, so they are returned unattempted. The work is done by the
 * `append_batch` function (migration 2): one round trip and one WAL flush for the whole batch.
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

export type AppendResult = 'ok' | 'version-conflict' | 'sku-taken' | 'idempotency-conflict' | 'not-attempted';

/** The NOTIFY channel `append_batch` signals after a batch that appended events. */
export const OUTBOX_CHANNEL = 'catalog_outbox';

export async function appendBatch(sql: Sql, requests: readonly AppendRequest[]): Promise<AppendResult[]> {
  if (requests.length === 0) return [];
  const [row] = await sql`select append_batch(${sql.json(requests as unknown as postgres.JSONValue)}) as results`;
  const results = row?.results as AppendResult[] | undefined;
  if (!results || results.length !== requests.length) {
    throw new Error(`append_batch answered ${results?.length ?? 'nothing'} results for ${requests.length} requests`);
  }
  return results;
}

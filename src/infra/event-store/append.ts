import type { Envelope } from '../../domain/envelope.ts';
import type { Sql, TransactionSql } from '../postgres.ts';

/**
 * Group commit: the appends of many commands (many actors) in one transaction, each still judged
 * on its own. A request fails alone when its version, SKU or idempotency key is taken; its effects
 * are rolled back to a savepoint and the rest commit. Later requests of the same aggregate in the
 * batch were decided on top of the failed one, so they are returned unattempted.
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

export const OUTBOX_CHANNEL = 'catalog_outbox';

const ROLLBACK = Symbol('rollback-round');

export async function appendBatch(sql: Sql, requests: readonly AppendRequest[]): Promise<AppendResult[]> {
  const results: AppendResult[] = requests.map(() => 'ok');
  let live = requests.map((_, i) => i);
  await sql.begin(async (tx) => {
    while (live.length > 0) {
      const attempt = live.map((i) => requests[i] as AppendRequest);
      let failures = new Map<number, AppendResult>();
      try {
        await tx.savepoint(async (sp) => {
          failures = await tryAppend(sp, attempt);
          if (failures.size > 0) throw ROLLBACK;
        });
        break;
      } catch (error) {
        if (error !== ROLLBACK) throw error;
      }
      const poisoned = new Set<string>();
      const next: number[] = [];
      live.forEach((index, position) => {
        const request = requests[index] as AppendRequest;
        const failure = failures.get(position);
        if (failure) {
          results[index] = failure;
          poisoned.add(request.aggregateId);
        } else if (poisoned.has(request.aggregateId)) {
          results[index] = 'not-attempted';
        } else {
          next.push(index);
        }
      });
      live = next;
    }
    if (live.some((i) => (requests[i]?.events.length ?? 0) > 0)) {
      await tx`select pg_notify(${OUTBOX_CHANNEL}, '')`;
    }
  });
  return results;
}

/** One round inside a savepoint; returns the failed requests by their index in `requests`. */
async function tryAppend(tx: TransactionSql, requests: readonly AppendRequest[]): Promise<Map<number, AppendResult>> {
  const failures = new Map<number, AppendResult>();

  const claims = requests.flatMap((r, i) => (r.skuClaim ? [{ i, sku: r.skuClaim, id: r.aggregateId }] : []));
  if (claims.length > 0) {
    const inserted = await tx`
      insert into product_skus (sku, aggregate_id)
      select * from unnest(${claims.map((c) => c.sku)}::text[], ${claims.map((c) => c.id)}::uuid[])
      on conflict do nothing
      returning sku, aggregate_id`;
    // Two creates of one batch may claim the same SKU: the second row conflicts with the first and
    // is skipped, so a claim is won only by the product whose row was inserted, not by its SKU alone.
    const won = new Set(inserted.map((r) => `${r.sku as string}\n${r.aggregate_id as string}`));
    const lost = claims.filter((c) => !won.has(`${c.sku}\n${c.id}`));
    if (lost.length > 0) {
      const owners =
        await tx`select sku, aggregate_id from product_skus where sku = any(${lost.map((c) => c.sku)}::text[])`;
      const ownerOf = new Map(owners.map((r) => [r.sku as string, r.aggregate_id as string]));
      for (const claim of lost) {
        // The same product holding the SKU means its creation already committed: a version conflict.
        const owner = ownerOf.get(claim.sku);
        failures.set(claim.i, owner !== undefined && owner !== claim.id ? 'sku-taken' : 'version-conflict');
      }
    }
  }

  // A key appears once per batch: a later request with a key already in this batch lost the race to
  // the earlier one (inserting both would let the conflict hide it, and both would count as stored).
  const seenKeys = new Set<string>();
  const keyed = requests.flatMap((r, i) => {
    if (!r.idempotency) return [];
    if (seenKeys.has(r.idempotency.key)) {
      if (!failures.has(i)) failures.set(i, 'idempotency-conflict');
      return [];
    }
    seenKeys.add(r.idempotency.key);
    return [{ i, id: r.aggregateId, ...r.idempotency }];
  });
  if (keyed.length > 0) {
    const inserted = await tx`
      insert into idempotency_keys (key, request_hash, aggregate_id, outcome)
      select k, h, a, o::jsonb from unnest(
        ${keyed.map((k) => k.key)}::text[], ${keyed.map((k) => k.requestHash)}::text[],
        ${keyed.map((k) => k.id)}::uuid[], ${keyed.map((k) => JSON.stringify(k.outcome))}::text[]
      ) as t(k, h, a, o)
      on conflict (key) do nothing
      returning key`;
    const stored = new Set(inserted.map((r) => r.key as string));
    for (const k of keyed) if (!stored.has(k.key) && !failures.has(k.i)) failures.set(k.i, 'idempotency-conflict');
  }

  const events = requests.flatMap((r, i) => r.events.map((e) => ({ i, e })));
  if (events.length > 0) {
    const col = <T>(pick: (e: Envelope) => T) => events.map(({ e }) => pick(e));
    // WITH ORDINALITY keeps the rows in list order, so positions grow with versions within a stream.
    const inserted = await tx`
      with rows as (
        select * from unnest(
          ${col((e) => e.eventId)}::uuid[], ${col((e) => e.aggregateId)}::uuid[], ${col((e) => e.version)}::int[],
          ${col((e) => e.type)}::text[], ${col((e) => e.schemaVersion)}::int[],
          ${col((e) => JSON.stringify(e.data))}::text[], ${col((e) => JSON.stringify(e.metadata))}::text[],
          ${col((e) => e.occurredAt)}::timestamptz[]
        ) with ordinality as t(event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at, n)
      ),
      appended as (
        insert into events (event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at)
        select event_id, aggregate_id, version, type, schema_version, data::jsonb, metadata::jsonb, occurred_at
        from rows order by n
        on conflict (aggregate_id, version) do nothing
        returning position, aggregate_id, version
      ),
      queued as (insert into outbox (position, aggregate_id) select position, aggregate_id from appended)
      select aggregate_id, version from appended`;
    const appended = new Set(inserted.map((r) => `${r.aggregate_id}/${r.version}`));
    for (const { i, e } of events) {
      if (!appended.has(`${e.aggregateId}/${e.version}`) && !failures.has(i)) failures.set(i, 'version-conflict');
    }
  }

  const snapshots = requests.flatMap((r, i) =>
    r.snapshot && !failures.has(i) ? [{ id: r.aggregateId, ...r.snapshot }] : [],
  );
  if (failures.size === 0 && snapshots.length > 0) {
    await tx`
      insert into snapshots (aggregate_id, version, state)
      select a, v, s::jsonb from unnest(
        ${snapshots.map((s) => s.id)}::uuid[], ${snapshots.map((s) => s.version)}::int[],
        ${snapshots.map((s) => JSON.stringify(s.state))}::text[]
      ) as t(a, v, s)
      on conflict (aggregate_id) do update set version = excluded.version, state = excluded.state, taken_at = now()
      where snapshots.version < excluded.version`;
  }
  return failures;
}

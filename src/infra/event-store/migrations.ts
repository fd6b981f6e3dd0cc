import type { Sql } from '../postgres.ts';

/**
 * Versioned, idempotent schema migrations, run at start-up by every process that uses the event
 * store. A transaction-scoped advisory lock serialises concurrent starts (two replicas, a test).
 */
const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'event store, outbox, idempotency, SKU reservations, snapshots',
    sql: `
      create table events (
        position bigint generated always as identity primary key,
        event_id uuid not null unique,
        aggregate_id uuid not null,
        version integer not null check (version >= 1),
        type text not null,
        schema_version integer not null,
        data jsonb not null,
        metadata jsonb not null,
        occurred_at timestamptz not null,
        -- Positions become visible out of order under concurrent transactions; readers of the whole
        -- log stop below the oldest transaction still running (pg_snapshot_xmin), so none is skipped.
        transaction_id xid8 not null default pg_current_xact_id(),
        unique (aggregate_id, version)
      );
      create index events_transaction_id on events (transaction_id);

      -- The outbox is a queue of event positions not yet on Kafka: the relay deletes rows once the
      -- broker acknowledged them, so the table stays small however long the event log grows.
      create table outbox (
        position bigint primary key references events (position),
        aggregate_id uuid not null
      );

      create table idempotency_keys (
        key text primary key,
        request_hash text not null,
        aggregate_id uuid not null,
        -- The command's outcome; the HTTP layer maps it to the same status and body on a replay.
        outcome jsonb not null,
        created_at timestamptz not null default now()
      );

      -- SKU uniqueness across aggregates, enforced in the same transaction as the append.
      create table product_skus (
        sku text primary key,
        aggregate_id uuid not null unique
      );

      create table snapshots (
        aggregate_id uuid primary key,
        version integer not null,
        state jsonb not null,
        taken_at timestamptz not null default now()
      );
    `,
  },
];

export async function migrate(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('cqrs-catalog:migrations'))`;
    await tx`create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const applied = new Set((await tx`select version from schema_migrations`).map((r) => r.version as number));
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx.unsafe(migration.sql);
      await tx`insert into schema_migrations (version, name) values (${migration.version}, ${migration.name})`;
    }
  });
}

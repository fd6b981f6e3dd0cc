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
  {
    version: 2,
    name: 'append_batch: group commit in one round trip',
    // One call appends a whole batch, judging each request on its own, in one statement's
    // transaction: under load the database round trip, not the WAL flush, is what a commit costs.
    // A request that fails leaves nothing behind: the rows it had inserted (uncommitted, never
    // visible to anyone) are removed again, which avoids a subtransaction per request. Later
    // requests of the failed stream were decided on top of it, so they are not attempted.
    sql: `
      create or replace function append_batch(requests jsonb) returns text[]
      language plpgsql as $fn$
      declare
        r jsonb;
        agg uuid;
        results text[] := '{}';
        poisoned uuid[] := '{}';
        positions bigint[];
        wanted integer;
        claimed boolean;
        keyed boolean;
        appended boolean := false;
      begin
        for r in select value from jsonb_array_elements(requests) loop
          agg := (r->>'aggregateId')::uuid;
          if agg = any(poisoned) then
            results := results || 'not-attempted'::text;
            continue;
          end if;

          claimed := false;
          if r ? 'skuClaim' then
            insert into product_skus (sku, aggregate_id) values (r->>'skuClaim', agg) on conflict do nothing;
            if not found then
              -- The same product holding the SKU means its creation already committed.
              results := results || case when exists (
                select 1 from product_skus where sku = r->>'skuClaim' and aggregate_id <> agg
              ) then 'sku-taken'::text else 'version-conflict'::text end;
              poisoned := poisoned || agg;
              continue;
            end if;
            claimed := true;
          end if;

          keyed := false;
          if r ? 'idempotency' then
            insert into idempotency_keys (key, request_hash, aggregate_id, outcome)
            values (r->'idempotency'->>'key', r->'idempotency'->>'requestHash', agg, r->'idempotency'->'outcome')
            on conflict do nothing;
            if not found then
              if claimed then delete from product_skus where sku = r->>'skuClaim'; end if;
              results := results || 'idempotency-conflict'::text;
              poisoned := poisoned || agg;
              continue;
            end if;
            keyed := true;
          end if;

          wanted := jsonb_array_length(r->'events');
          if wanted > 0 then
            with inserted as (
              insert into events (event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at)
              select (e->>'eventId')::uuid, agg, (e->>'version')::int, e->>'type', (e->>'schemaVersion')::int,
                     e->'data', e->'metadata', (e->>'occurredAt')::timestamptz
              from jsonb_array_elements(r->'events') with ordinality as t(e, n)
              order by n
              on conflict (aggregate_id, version) do nothing
              returning position
            )
            select coalesce(array_agg(position order by position), '{}') into positions from inserted;
            if coalesce(array_length(positions, 1), 0) < wanted then
              delete from events where position = any(positions);
              if keyed then delete from idempotency_keys where key = r->'idempotency'->>'key'; end if;
              if claimed then delete from product_skus where sku = r->>'skuClaim'; end if;
              results := results || 'version-conflict'::text;
              poisoned := poisoned || agg;
              continue;
            end if;
            insert into outbox (position, aggregate_id) select p, agg from unnest(positions) as p;
            appended := true;
          end if;

          if r ? 'snapshot' then
            insert into snapshots (aggregate_id, version, state)
            values (agg, (r->'snapshot'->>'version')::int, r->'snapshot'->'state')
            on conflict (aggregate_id) do update set version = excluded.version, state = excluded.state, taken_at = now()
            where snapshots.version < excluded.version;
          end if;
          results := results || 'ok'::text;
        end loop;
        if appended then perform pg_notify('catalog_outbox', ''); end if;
        return results;
      end;
      $fn$;
    `,
  },
  {
    version: 3,
    name: 'append_events: set-based group commit, idempotency replay in the append, no NOTIFY',
    // The common batch (distinct products, fresh keys and SKUs, free versions) is written by one
    // set-based statement per table. Any unique violation rolls that attempt back (one
    // subtransaction per batch, not per request) and the batch is judged request by request, as
    // append_batch did. A taken Idempotency-Key answers with the stored record, so the HTTP layer
    // needs no lookup before dispatching. No pg_notify here: NOTIFY takes a cluster-wide lock held
    // until commit, which serialised every append; the command service wakes the relay after the
    // commit instead. The transaction_id index served no query (readAll walks the primary key),
    // and the outbox's foreign key cost a trigger per row for a reference made in the same
    // statement.
    sql: `
      drop function append_batch(jsonb);
      drop index events_transaction_id;
      alter table outbox drop constraint outbox_position_fkey;
      create index idempotency_keys_created_at on idempotency_keys (created_at);

      create function append_events(requests jsonb) returns jsonb
      language plpgsql as $fn$
      declare
        r jsonb;
        agg uuid;
        results jsonb := '[]';
        poisoned uuid[] := '{}';
        positions bigint[];
        wanted integer;
        claimed boolean;
        stored record;
      begin
        begin
          insert into idempotency_keys (key, request_hash, aggregate_id, outcome)
          select q.r->'idempotency'->>'key', q.r->'idempotency'->>'requestHash', (q.r->>'aggregateId')::uuid,
                 q.r->'idempotency'->'outcome'
          from jsonb_array_elements(requests) as q(r) where q.r ? 'idempotency';

          insert into product_skus (sku, aggregate_id)
          select q.r->>'skuClaim', (q.r->>'aggregateId')::uuid
          from jsonb_array_elements(requests) as q(r) where q.r ? 'skuClaim';

          with inserted as (
            insert into events (event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at)
            select (t.e->>'eventId')::uuid, (q.r->>'aggregateId')::uuid, (t.e->>'version')::int, t.e->>'type',
                   (t.e->>'schemaVersion')::int, t.e->'data', t.e->'metadata', (t.e->>'occurredAt')::timestamptz
            from jsonb_array_elements(requests) with ordinality as q(r, i)
            cross join lateral jsonb_array_elements(q.r->'events') with ordinality as t(e, j)
            order by q.i, t.j
            returning position, aggregate_id
          )
          insert into outbox (position, aggregate_id) select position, aggregate_id from inserted;

          insert into snapshots (aggregate_id, version, state)
          select distinct on (agg_id) agg_id, version, state from (
            select (q.r->>'aggregateId')::uuid as agg_id, (q.r->'snapshot'->>'version')::int as version,
                   q.r->'snapshot'->'state' as state
            from jsonb_array_elements(requests) as q(r) where q.r ? 'snapshot'
          ) s
          order by agg_id, version desc
          on conflict (aggregate_id) do update set version = excluded.version, state = excluded.state, taken_at = now()
          where snapshots.version < excluded.version;

          return (select coalesce(jsonb_agg('"ok"'::jsonb), '[]') from jsonb_array_elements(requests));
        exception when unique_violation then
          -- Something in the batch is taken: judge each request on its own below.
        end;

        -- A request that fails leaves nothing behind: the rows it had inserted (uncommitted, never
        -- visible to anyone) are removed again, which avoids a subtransaction per request. Later
        -- requests of the failed stream were decided on top of it, so they are not attempted.
        for r in select value from jsonb_array_elements(requests) loop
          agg := (r->>'aggregateId')::uuid;
          if agg = any(poisoned) then
            results := results || '"not-attempted"'::jsonb;
            continue;
          end if;

          if r ? 'idempotency' then
            insert into idempotency_keys (key, request_hash, aggregate_id, outcome)
            values (r->'idempotency'->>'key', r->'idempotency'->>'requestHash', agg, r->'idempotency'->'outcome')
            on conflict do nothing;
            if not found then
              select request_hash, aggregate_id, outcome into stored
              from idempotency_keys where key = r->'idempotency'->>'key';
              results := results || jsonb_build_array(jsonb_build_object('replay', jsonb_build_object(
                'requestHash', stored.request_hash, 'aggregateId', stored.aggregate_id, 'outcome', stored.outcome)));
              poisoned := poisoned || agg;
              continue;
            end if;
          end if;

          claimed := false;
          if r ? 'skuClaim' then
            insert into product_skus (sku, aggregate_id) values (r->>'skuClaim', agg) on conflict do nothing;
            if not found then
              if r ? 'idempotency' then delete from idempotency_keys where key = r->'idempotency'->>'key'; end if;
              -- The same product holding the SKU means its creation already committed.
              results := results || case when exists (
                select 1 from product_skus where sku = r->>'skuClaim' and aggregate_id <> agg
              ) then '"sku-taken"'::jsonb else '"version-conflict"'::jsonb end;
              poisoned := poisoned || agg;
              continue;
            end if;
            claimed := true;
          end if;

          wanted := jsonb_array_length(r->'events');
          if wanted > 0 then
            with inserted as (
              insert into events (event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at)
              select (e->>'eventId')::uuid, agg, (e->>'version')::int, e->>'type', (e->>'schemaVersion')::int,
                     e->'data', e->'metadata', (e->>'occurredAt')::timestamptz
              from jsonb_array_elements(r->'events') with ordinality as t(e, n)
              order by n
              on conflict (aggregate_id, version) do nothing
              returning position
            )
            select coalesce(array_agg(position order by position), '{}') into positions from inserted;
            if coalesce(array_length(positions, 1), 0) < wanted then
              delete from events where position = any(positions);
              if r ? 'idempotency' then delete from idempotency_keys where key = r->'idempotency'->>'key'; end if;
              if claimed then delete from product_skus where sku = r->>'skuClaim'; end if;
              results := results || '"version-conflict"'::jsonb;
              poisoned := poisoned || agg;
              continue;
            end if;
            insert into outbox (position, aggregate_id) select p, agg from unnest(positions) as p;
          end if;

          if r ? 'snapshot' then
            insert into snapshots (aggregate_id, version, state)
            values (agg, (r->'snapshot'->>'version')::int, r->'snapshot'->'state')
            on conflict (aggregate_id) do update set version = excluded.version, state = excluded.state, taken_at = now()
            where snapshots.version < excluded.version;
          end if;
          results := results || '"ok"'::jsonb;
        end loop;
        return results;
      end;
      $fn$;
    `,
  },
  {
    version: 4,
    name: 'events in commit order',
    // Readers of the whole log page by (transaction id, position), the only order in which a page
    // never skips an event that commits later (see readAll). Both grow with time, so the index is
    // appended to at its right edge.
    sql: 'create index events_commit_order on events (transaction_id, position)',
  },
];

export async function migrate(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    // An index built over a long event log takes longer than a request's statement timeout.
    await tx`set local statement_timeout = '30min'`;
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

import type postgres from 'postgres';

/**
 * FerretDB v1 pushes an `_id` equality down to PostgreSQL as `_jsonb->$1 @> $2`, which the btree
 * index it creates on `_jsonb->'_id'` cannot serve: every find, update and upsert by `_id` scanned
 * its whole table (15 ms at 16,000 products, so about 70 product writes a second). Two settings of
 * FerretDB's own database fix that:
 * - a GIN index on the same expression, which serves `@>` (without fastupdate: its pending list is
 *   scanned linearly, and the projection inserts all the time). FerretDB creates a table per
 *   collection on first use (views generations, test databases), so an event trigger adds the index
 *   to every table with a `_jsonb` column as it is created, and `up` adds it to the ones that exist;
 * - `plan_cache_mode = force_custom_plan`: FerretDB runs these as prepared statements, and
 *   PostgreSQL's generic plan for them, with the key still a parameter, cannot match the index.
 * This tunes the local stack's storage only: the services send plain MongoDB queries, and a real
 * MongoDB indexes `_id` itself.
 */
const INDEX_FUNCTION = `
create or replace function cqrs_catalog_index_ferretdb_ids(target regclass, name text) returns void
language plpgsql as $$
begin
  execute format('create index if not exists %I on %s using gin ((_jsonb -> ''_id'') jsonb_path_ops) with (fastupdate = off)',
    left(name, 50) || '_id_gin', target);
end $$`;

const TRIGGER_FUNCTION = `
create or replace function cqrs_catalog_index_new_ferretdb_tables() returns event_trigger
language plpgsql as $$
declare created record;
begin
  for created in
    select c.oid::regclass as target, c.relname
    from pg_event_trigger_ddl_commands() d
    join pg_class c on c.oid = d.objid
    where d.command_tag = 'CREATE TABLE' and c.relkind = 'r'
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = '_jsonb' and not a.attisdropped)
  loop
    perform cqrs_catalog_index_ferretdb_ids(created.target, created.relname);
  end loop;
end $$`;

const INDEX_EXISTING = `
do $$
declare existing record;
begin
  for existing in
    select c.oid::regclass as target, c.relname
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attname = '_jsonb' and not a.attisdropped
    where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
  loop
    perform cqrs_catalog_index_ferretdb_ids(existing.target, existing.relname);
  end loop;
end $$`;

/** Idempotent; `sql` must be a superuser connection to FerretDB's database (event triggers need one). */
export async function ensureFerretdbIdIndexes(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(INDEX_FUNCTION);
  await sql.unsafe(TRIGGER_FUNCTION);
  const [trigger] = await sql`select 1 from pg_event_trigger where evtname = 'cqrs_catalog_ferretdb_ids'`;
  if (!trigger) {
    await sql.unsafe(
      `create event trigger cqrs_catalog_ferretdb_ids on ddl_command_end when tag in ('CREATE TABLE')
       execute function cqrs_catalog_index_new_ferretdb_tables()`,
    );
  }
  await sql.unsafe(INDEX_EXISTING);
  await sql.unsafe('alter database ferretdb set plan_cache_mode = force_custom_plan');
}

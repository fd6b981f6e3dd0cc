import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MongoServerError } from 'mongodb';
import postgres from 'postgres';
import { databaseUrl, mongoClient, uniqueName } from '../../support/env.ts';

const client = mongoClient();
after(() => client.close());

test('FerretDB answers the mongodb driver: insert, range find with sort, upsert, unique index', async () => {
  const collection = client.db('stack_checks').collection<{ _id: string; sku: string; price: number }>(uniqueName('c'));
  try {
    await collection.insertMany([
      { _id: 'a', sku: 'A', price: 300 },
      { _id: 'b', sku: 'B', price: 100 },
      { _id: 'c', sku: 'C', price: 200 },
      { _id: 'd', sku: 'D', price: 900 },
    ]);
    const inRange = await collection
      .find({ price: { $gte: 100, $lte: 300 } })
      .sort({ price: -1 })
      .toArray();
    assert.deepEqual(
      inRange.map((d) => d._id),
      ['a', 'c', 'b'],
    );

    await collection.updateOne({ _id: 'e' }, { $set: { sku: 'E', price: 50 } }, { upsert: true });
    await collection.updateOne({ _id: 'a' }, { $set: { price: 301 } }, { upsert: true });
    assert.equal((await collection.findOne({ _id: 'e' }))?.price, 50);
    assert.equal((await collection.findOne({ _id: 'a' }))?.price, 301);

    await collection.createIndex({ sku: 1 }, { unique: true });
    await assert.rejects(
      collection.insertOne({ _id: 'z', sku: 'A', price: 1 }),
      (error: unknown) => error instanceof MongoServerError && error.code === 11000,
    );
    assert.equal(await collection.countDocuments(), 5);
  } finally {
    await collection.drop();
  }
});

test("FerretDB's _id lookups run on an index in its PostgreSQL (GIN on _jsonb->'_id', custom plans)", async () => {
  const name = uniqueName('c');
  const collection = client.db('stack_checks').collection<{ _id: string; n: number }>(name);
  const url = new URL(databaseUrl);
  url.pathname = '/ferretdb';
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await collection.insertMany(Array.from({ length: 500 }, (_, n) => ({ _id: `doc-${n}`, n })));
    const [table] = await sql`
      select _jsonb->>'table' as name from stack_checks._ferretdb_database_metadata where _jsonb->>'_id' = ${name}`;
    assert.ok(table?.name, `FerretDB's table for ${name}`);
    const indexes =
      await sql`select indexdef from pg_indexes where schemaname = 'stack_checks' and tablename = ${table.name}`;
    assert.ok(
      indexes.some((i) => /USING gin \(+_jsonb -> '_id'::text\)+ jsonb_path_ops\)/.test(i.indexdef as string)),
      JSON.stringify(indexes),
    );
    const plan = await sql.unsafe(
      `explain select _jsonb from stack_checks."${table.name}" where _jsonb->'_id' @> '"doc-7"'`,
    );
    assert.match(plan.map((row) => row['QUERY PLAN']).join('\n'), /Index Scan/);
    const [setting] = await sql`
      select setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = 'ferretdb'`;
    const settings = (setting?.setconfig ?? []) as string[];
    assert.ok(settings.includes('plan_cache_mode=force_custom_plan'), JSON.stringify(settings));
    assert.equal((await collection.findOne({ _id: 'doc-7' }))?.n, 7);
  } finally {
    await collection.drop();
    await sql.end();
  }
});

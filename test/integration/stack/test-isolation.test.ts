import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { testData, urls } from '../../../scripts/stack/paths.ts';
import { loadConfig, querySettings } from '../../../src/infra/config.ts';
import { databaseUrl, eventTopic, kafkaClient, mongoUrl, sqlClient } from '../../support/env.ts';

/**
 * `npm test` keeps off the stack's data, so that `npm run verify` on the stack stays clean after a
 * test run: the PostgreSQL database, the MongoDB database and the topics the tests use (and the
 * services they start, which inherit this environment) are their own. And the services that
 * `npm run up` runs, which keep running during the tests, do not hold the tests' relay leadership.
 */

const sql = sqlClient();
after(() => sql.end({ timeout: 5 }));

const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));
const stackDefaults = loadConfig(querySettings, {});
const stack = {
  database: databaseOf(urls.database),
  mongoDatabase: databaseOf(urls.mongo),
  topics: [stackDefaults.KAFKA_TOPIC, stackDefaults.KAFKA_DEAD_LETTER_TOPIC],
};

/** What the tests use (env.ts), and what the environment gives the processes they start. */
const used = (fromEnv: string | undefined, fromSupport: string) =>
  [fromSupport, fromEnv].filter((v): v is string => v !== undefined);

test("the tests' PostgreSQL database is not the stack's, and is created like it", async () => {
  for (const url of used(process.env.DATABASE_URL, databaseUrl)) {
    assert.notEqual(databaseOf(url), stack.database, `${url} is the stack's database`);
  }
  const rows = await sql`
    select d.datname, pg_get_userbyid(d.datdba) as owner, pg_encoding_to_char(d.encoding) as encoding,
           d.datcollate, d.datctype, (d.datname = current_database()) as current
    from pg_database d where d.datname in (${stack.database}, current_database())`;
  const current = rows.find((r) => r.current);
  const catalog = rows.find((r) => r.datname === stack.database);
  assert.ok(current && catalog, JSON.stringify(rows));
  assert.notEqual(current.datname, stack.database);
  const { datname: _a, current: _b, ...settings } = current;
  const { datname: _c, current: _d, ...stackSettings } = catalog;
  assert.deepEqual(settings, stackSettings, 'owner, encoding and locale as the stack database');
});

test("the tests' MongoDB database is not the stack's", () => {
  for (const url of used(process.env.MONGO_URL, mongoUrl)) {
    assert.notEqual(databaseOf(url), stack.mongoDatabase, `${url} is the stack's views database`);
  }
});

test("the command services the tests start publish to a topic of the tests' own, which exists", async () => {
  for (const topic of [
    ...used(process.env.KAFKA_TOPIC, eventTopic),
    ...used(process.env.KAFKA_DEAD_LETTER_TOPIC, testData.deadLetterTopic),
  ]) {
    assert.ok(!stack.topics.includes(topic), `${topic} is the stack's topic`);
  }
  const admin = kafkaClient('test-isolation').admin();
  await admin.connect();
  try {
    assert.ok((await admin.listTopics()).includes(eventTopic), `${eventTopic} exists`);
  } finally {
    await admin.disconnect();
  }
});

test("the stack's running services hold no advisory lock (the relay's leadership) in the tests' database", async (t) => {
  // Advisory locks belong to one database: a key the stack's command service holds on `catalog` is
  // free on the tests' database, which is why `npm test` no longer stops the stack's services.
  const held = await sql`
    select l.classid, l.objid, a.application_name
    from pg_locks l join pg_database d on d.oid = l.database left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.objsubid = 1 and l.granted and d.datname = ${stack.database}`;
  if (held.length === 0) {
    t.skip(`no advisory lock held on ${stack.database} (the stack's command service is not running)`);
    return;
  }
  // One session: an advisory lock is released by the session that holds it.
  const session = await sql.reserve();
  try {
    for (const lock of held) {
      const key = BigInt.asIntN(64, (BigInt(lock.classid as number) << 32n) | BigInt(lock.objid as number));
      const [row] = await session`select pg_try_advisory_lock(${key.toString()}::bigint) as locked`;
      if (row?.locked) await session`select pg_advisory_unlock(${key.toString()}::bigint)`;
      assert.equal(row?.locked, true, `the key ${key} that ${lock.application_name} holds on ${stack.database}`);
    }
  } finally {
    session.release();
  }
});

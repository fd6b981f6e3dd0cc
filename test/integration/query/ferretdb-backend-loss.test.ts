import assert from 'node:assert/strict';
import { test } from 'node:test';
import postgres from 'postgres';
import { urls } from '../../../scripts/stack/paths.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createMongo, isMongoUnavailable, isWriteRefused } from '../../../src/infra/mongo.ts';
import { eventually, mongoUrl, uniqueName } from '../../support/env.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("FerretDB losing its PostgreSQL connections under reads and writes: every failure is 'unavailable', none a refusal", async () => {
  const client = createMongo(mongoUrl, {
    logger: createLogger('ferretdb-backend-test', 'silent'),
    appName: 'ferretdb-backend-test',
    maxPoolSize: 8,
  });
  await client.connect();
  const docs = client.db().collection<{ _id: string; n: number }>(uniqueName('backend-loss'));
  await docs.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `p-${i}`, n: 0 })));
  // What a PostgreSQL restart or failover does to FerretDB, without touching anyone's server.
  const backend = postgres(urls.ferretdbBackend, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'backend-loss-test' },
  });
  const failures: unknown[] = [];
  let running = true;
  const workers = Array.from({ length: 6 }, async (_, w) => {
    for (let i = 0; running; i += 1) {
      const _id = `p-${(w * 7 + i) % 50}`;
      const operation = i % 2 === 0 ? docs.findOne({ _id }) : docs.replaceOne({ _id }, { n: i }, { upsert: true });
      await operation.catch((error: unknown) => failures.push(error));
    }
  });
  try {
    for (let round = 0; round < 15; round += 1) {
      await sleep(150);
      await backend`
        select pg_terminate_backend(pid) from pg_stat_activity
        where datname = 'ferretdb' and pid <> pg_backend_pid() and application_name <> 'backend-loss-test'`;
    }
  } finally {
    running = false;
    await Promise.all(workers);
    await backend.end();
  }
  const describe = (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`;
  assert.ok(failures.length > 0, 'the terminated connections failed some operations');
  assert.deepEqual(failures.filter((error) => !isMongoUnavailable(error)).map(describe), []);
  assert.deepEqual(failures.filter(isWriteRefused).map(describe), []);
  // FerretDB does not retry on a fresh connection itself: its pooled ones fail once each, then it answers.
  await eventually(() => docs.findOne({ _id: 'p-0' }).then((doc) => doc !== null), {
    what: 'FerretDB to answer again',
  });
  await docs.drop();
  await client.close();
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_AMOUNT } from '../../../src/domain/money.ts';
import type { Sql } from '../../../src/infra/postgres.ts';
import type { RebuildProgress } from '../../../src/projections/rebuild.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import type { StatsShardDoc } from '../../../src/projections/views/catalog-stats/shard-doc.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { privateEventStore, runVerify } from './support/event-store.ts';
import { storeEvents } from './support/events.ts';
import { ADMIN_TOKEN, getJson, mongoUrlFor, type QueryService, startQueryService } from './support/service.ts';

/**
 * Stats past 2^53 on the real stack, in one partition so that one shard holds every product: two
 * products of the largest stock at the largest price, over a shard an older version wrote with
 * numbers. FerretDB stores a double for a JSON number, where 2 x (2^53 - 1) - 1 is not exact.
 */

const bed = new QueryBed('exact-stats', 1);
const { database, mongo } = bed;
let store: { sql: Sql; url: string; drop: () => Promise<void> };
let service: QueryService;

const start = async () => {
  service = await startQueryService({ ...bed.service, env: { DATABASE_URL: store.url } });
};
const caughtUp = () =>
  eventually(async () => (await getJson<{ totalLag: number }>(`${service.url}/projections`)).body.totalLag === 0, {
    timeoutMs: 120_000,
    what: 'projection lag 0',
  });
const shards = (generation: number) => mongo.db(database).collection<StatsShardDoc>(`catalog_stats_g${generation}`);
const shard = (generation: number) => shards(generation).findOne({ _id: 'p0' });
const verify = () => runVerify({ DATABASE_URL: store.url, MONGO_URL: mongoUrlFor(database) }, 30_000);

/** Appends to the event store and publishes to the topic, as the command side and its relay do. */
async function append(events: ProductEnvelope[]): Promise<void> {
  await storeEvents(store.sql, events);
  await bed.publish(events);
}

const small = new StreamBuilder();
const [a, b] = [new StreamBuilder(), new StreamBuilder()];
// 2^54 + 1, which no double holds (they are 4 apart there): added as doubles, the stock gives 2^54 + 4.
const units = 4n + 2n * BigInt(Number.MAX_SAFE_INTEGER) - 1n;
const euros = 400n + (units - 4n) * BigInt(MAX_AMOUNT);
const exactAnswer = `{"activeProducts":3,"discontinuedProducts":0,"stockUnits":${units},"inventoryValue":{"EUR":${euros}}}`;

before(async () => {
  await bed.open();
  store = await privateEventStore();
  await start();
});

after(async () => {
  await service?.stop();
  await bed.close();
  await store?.drop();
});

test('a shard of numbers from an older version is read, then counts two stocks of 2^53 - 1 exactly', async () => {
  await append([small.created({ stock: 4, price: { amount: 100, currency: 'EUR' } })]);
  await caughtUp();
  await service.stop();
  // What the previous version wrote for the same product: its counters as JSON numbers.
  await shards(1).updateOne({ _id: 'p0' }, { $set: { stockUnits: 4, inventoryValue: { EUR: 400 } } });
  assert.equal(typeof (await shard(1))?.stockUnits, 'number');
  await start();

  const price = { amount: MAX_AMOUNT, currency: 'EUR' };
  await append([
    a.created({ stock: Number.MAX_SAFE_INTEGER, price }),
    b.created({ stock: Number.MAX_SAFE_INTEGER, price }),
    a.reserved(1),
  ]);
  await caughtUp();

  const stats = await fetch(`${service.url}/stats`);
  assert.equal(stats.status, 200);
  assert.match(stats.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(await stats.text(), exactAnswer);
  const stored = await shard(1);
  assert.equal(stored?.stockUnits, units.toString(), 'rewritten as a decimal string');
  assert.deepEqual(stored?.inventoryValue, { EUR: euros.toString() });
  const checked = await verify();
  assert.equal(checked.code, 0, checked.output);
  assert.match(checked.output, /verify: clean/);
});

test('a rebuild from the event store writes the same exact shard', async () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const started = await fetch(`${service.url}/admin/rebuild`, { method: 'POST', headers: auth });
  assert.equal(started.status, 202);
  await eventually(
    async () => {
      const progress = (await getJson<RebuildProgress>(`${service.url}/admin/rebuild`, { headers: auth })).body;
      assert.notEqual(progress.phase, 'failed', JSON.stringify(progress));
      return progress.phase === 'done';
    },
    { timeoutMs: 120_000, what: 'the rebuild to finish' },
  );
  assert.equal(await (await fetch(`${service.url}/stats`)).text(), exactAnswer);
  assert.equal((await shard(2))?.stockUnits, units.toString());
  const checked = await verify();
  assert.equal(checked.code, 0, checked.output);
});

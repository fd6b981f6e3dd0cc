import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { toProductView } from '../../../src/projections/views/products/view.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { catalogEvents } from './support/catalog.ts';
import { ADMIN_TOKEN, getJson, mongoUrlFor, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('rebuild', 4);
const { topic, deadLetterTopic, database, mongo } = bed;
let service: QueryService;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

type Status = { totalLag: number; consumerGroup: string };
const status = async () => (await getJson<Status>(`${service.url}/projections`)).body;

async function views(generation: number) {
  const db = mongo.db(database);
  const products = await db.collection(`products_g${generation}`).find({}).sort({ _id: 1 }).toArray();
  const history = await db.collection(`product_price_history_g${generation}`).find({}).sort({ _id: 1 }).toArray();
  const shards = await db.collection(`catalog_stats_g${generation}`).find({}).sort({ _id: 1 }).toArray();
  return {
    products: products.map((doc) => toProductView(doc as never)),
    history,
    // Offsets and counters must match; watermarks and write times are the rebuild's own.
    shards: shards.map(({ watermark, updatedAt, ...counted }) => counted),
  };
}

before(async () => {
  await bed.open();
  await bed.publish(catalogEvents(250, 8));
  service = await startQueryService(bed.service);
  await eventually(async () => (await status()).totalLag === 0, { timeoutMs: 120_000, what: 'lag 0' });
});

after(async () => {
  await service?.stop();
  await bed.close();
});

test('an admin rebuild produces views identical to the live ones while reads keep answering', async () => {
  const live = await views(1);
  const someId = live.products[0]?.id;
  const started = await fetch(`${service.url}/admin/rebuild`, { method: 'POST', headers: auth });
  assert.equal(started.status, 202);
  assert.equal(((await started.json()) as { generation: number }).generation, 2);
  const again = await fetch(`${service.url}/admin/rebuild`, { method: 'POST', headers: auth });
  assert.equal(again.status, 409);

  const answers: number[] = [];
  let progress: { phase: string; eventsPerSecond: number; consumed: number } | undefined;
  while (progress?.phase !== 'done') {
    const [byId, list, stats] = await Promise.all([
      fetch(`${service.url}/products/${someId}`),
      fetch(`${service.url}/products?limit=5&sort=-price`),
      fetch(`${service.url}/stats`),
    ]);
    answers.push(byId.status, list.status, stats.status);
    progress = (await getJson<typeof progress>(`${service.url}/admin/rebuild`, { headers: auth })).body;
    assert.notEqual(progress?.phase, 'failed', JSON.stringify(progress));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`# rebuild caught up ${progress.consumed} records at ${progress.eventsPerSecond} events/s`);
  assert.ok(answers.length >= 3);
  assert.deepEqual(new Set(answers), new Set([200]), 'every read during the rebuild answered 200');

  assert.deepEqual(await views(2), live);
  await eventually(async () => (await status()).consumerGroup === `${topic}.g2`, {
    timeoutMs: 30_000,
    what: 'the service to follow the new generation',
  });

  // The live projection continues in the new generation from where the rebuild stopped.
  const late = new StreamBuilder();
  await bed.publish([late.created({ name: 'After the rebuild' })]);
  const read = await getJson<{ name: string }>(`${service.url}/products/${late.id}?minVersion=1&maxWaitMs=10000`);
  assert.equal(read.status, 200);
  assert.equal(read.body.name, 'After the rebuild');
});

test('npm run rebuild (scripts/rebuild.ts) switches to a new generation with the same views', async () => {
  await eventually(async () => (await status()).totalLag === 0, { timeoutMs: 60_000, what: 'lag 0' });
  const before = await views(2);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rebuild.ts'], {
    cwd: join(import.meta.dirname, '..', '..', '..'),
    env: {
      ...process.env,
      MONGO_URL: mongoUrlFor(database),
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      KAFKA_CONSUMER_GROUP: topic,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /rebuild g3: catching-up \d+\/\d+ records/);
  assert.match(output, /rebuild g3: views switched/);
  assert.deepEqual(await views(3), before);
  await eventually(async () => (await status()).consumerGroup === `${topic}.g3`, {
    timeoutMs: 30_000,
    what: 'the service to follow generation 3',
  });
  const collections = (await mongo.db(database).listCollections().toArray()).map((c) => c.name);
  assert.ok(collections.includes('products_g2'), 'the previous generation stays for open cursors');
  assert.ok(collections.includes('products_g1'), 'dropped only by the next rebuild');
});

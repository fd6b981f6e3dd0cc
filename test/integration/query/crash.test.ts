import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from '../../support/env.ts';
import { QueryBed } from './support/bed.ts';
import { catalogEvents } from './support/catalog.ts';
import { privateEventStore, runVerify } from './support/event-store.ts';
import { storeEvents } from './support/events.ts';
import { getJson, mongoUrlFor, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('crash', 6);
const { database, mongo } = bed;
let store: Awaited<ReturnType<typeof privateEventStore>>;
const services: QueryService[] = [];

const options = { ...bed.service };

const progress = async (service: QueryService) =>
  (await getJson<{ totalLag: number; partitions: { committedOffset: number | null }[] }>(`${service.url}/projections`))
    .body;

before(async () => {
  await bed.open();
  store = await privateEventStore();
});

after(async () => {
  for (const service of services) await service.kill();
  await bed.close();
  await store?.drop();
});

test('a query service killed with SIGKILL mid-stream and restarted ends verify-clean', async () => {
  const events = catalogEvents(400, 10);
  await storeEvents(store.sql, events);
  const half = events.length / 2;
  await bed.publish(events.slice(0, half));

  const started = Date.now();
  const first = await startQueryService(options);
  services.push(first);
  await eventually(
    async () => {
      const { partitions } = await progress(first);
      return partitions.reduce((sum, p) => sum + (p.committedOffset ?? 0), 0) >= 300;
    },
    { timeoutMs: 120_000, intervalMs: 100, what: 'the projection to be part way through' },
  );
  const publishing = bed.publish(events.slice(half), 100);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = await progress(first);
  await first.kill();
  assert.ok(before.totalLag > 0, 'killed while records were still waiting');
  await publishing;

  const second = await startQueryService(options);
  services.push(second);
  await eventually(async () => (await progress(second)).totalLag === 0, {
    timeoutMs: 300_000,
    intervalMs: 500,
    what: 'the restarted projection to catch up',
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(`# crash test: ${events.length} events projected in ${seconds.toFixed(1)} s including a restart`);

  const verify = await runVerify({ DATABASE_URL: store.url, MONGO_URL: mongoUrlFor(database) }, 30_000);
  assert.equal(verify.code, 0, verify.output);
  assert.match(verify.output, /verify: clean\. 4000 events, 400 products/);

  // The verifier is only worth its clean answer if it sees a wrong document.
  const products = mongo.db(database).collection<{ _id: string; stock: number }>('products_g1');
  const victim = events[0]?.aggregateId ?? '';
  await products.updateOne({ _id: victim }, { $inc: { stock: 1 } });
  const tampered = await runVerify({ DATABASE_URL: store.url, MONGO_URL: mongoUrlFor(database) }, 0);
  assert.equal(tampered.code, 1, tampered.output);
  assert.match(tampered.output, new RegExp(`product ${victim}: stock is \\d+, expected \\d+`));
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { createProducer } from '../../../src/infra/kafka.ts';
import { eventually, kafkaClient, mongoClient, uniqueName } from '../../support/env.ts';
import { catalogEvents } from './support/catalog.ts';
import { privateEventStore, runVerify } from './support/event-store.ts';
import { createTopics, publish, removeFromKafka, storeEvents } from './support/events.ts';
import { getJson, mongoUrlFor, type QueryService, startQueryService } from './support/service.ts';

const topic = uniqueName('q-crash');
const deadLetterTopic = `${topic}.dlq`;
const database = uniqueName('q_crash').replaceAll('-', '_');
const kafka = kafkaClient('query-crash-test');
const admin = kafka.admin();
const mongo = mongoClient();
let producer: Producer;
let store: Awaited<ReturnType<typeof privateEventStore>>;
const services: QueryService[] = [];

const options = { topic, deadLetterTopic, group: topic, database, partitions: 6 };

const progress = async (service: QueryService) =>
  (await getJson<{ totalLag: number; partitions: { committedOffset: number | null }[] }>(`${service.url}/projections`))
    .body;

before(async () => {
  await admin.connect();
  await createTopics(admin, [
    { topic, partitions: 6 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  producer = createProducer(kafka);
  await producer.connect();
  store = await privateEventStore();
});

after(async () => {
  for (const service of services) await service.kill();
  await producer?.disconnect();
  await removeFromKafka(admin, [topic, deadLetterTopic], [topic]);
  await admin.disconnect();
  await mongo.db(database).dropDatabase();
  await mongo.close();
  await store?.drop();
});

test('a query service killed with SIGKILL mid-stream and restarted ends verify-clean', async () => {
  const events = catalogEvents(400, 10);
  await storeEvents(store.sql, events);
  const half = events.length / 2;
  await publish(producer, topic, events.slice(0, half));

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
  const publishing = publish(producer, topic, events.slice(half), 100);
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

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import { kafkaClient, mongoClient, uniqueName } from '../../support/env.ts';
import { createTopics, removeFromKafka } from '../query/support/events.ts';
import { getJson, type QueryService, startQueryService } from '../query/support/service.ts';

/**
 * The whole path: a write through the command API, the event store, the outbox relay, Kafka and
 * the projection, read back through the query API with `minVersion` as soon as the write answered.
 */

const topic = uniqueName('e2e-events');
const deadLetterTopic = `${topic}.dlq`;
const group = uniqueName('e2e-group');
const database = uniqueName('e2e').replaceAll('-', '_');
const admin = kafkaClient('e2e-admin').admin();
let command: CommandService;
let query: QueryService;

before(async () => {
  await admin.connect();
  await createTopics(admin, [
    { topic, partitions: 6 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  command = await startCommandService({ env: { KAFKA_TOPIC: topic, OUTBOX_POLL_MS: '200' } });
  query = await startQueryService({ topic, deadLetterTopic, group, database, partitions: 6 });
});

after(async () => {
  await query?.stop();
  await stopAll();
  await removeFromKafka(admin, [topic, deadLetterTopic], [group]);
  await admin.disconnect();
  const mongo = mongoClient();
  await mongo.db(database).dropDatabase();
  await mongo.close();
});

test('a product written through the command API is readable at once with minVersion', async () => {
  const sku = `E2E-${randomUUID()}`;
  const created = await command.request(
    'POST',
    '/products',
    { sku, name: 'Travel mug', price: { amount: 1500, currency: 'EUR' }, initialStock: 10 },
    { 'idempotency-key': randomUUID() },
  );
  assert.equal(created.status, 201);
  const { id, version } = created.body as { id: string; version: number };

  const first = await getJson(`${query.url}/products/${id}?minVersion=${version}&maxWaitMs=10000`);
  assert.equal(first.status, 200);
  assert.equal(first.body.sku, sku);
  assert.equal(first.body.stock, 10);
  assert.equal(first.body.status, 'active');

  const reserved = await command.request(
    'POST',
    `/products/${id}/stock/reservations`,
    { quantity: 3 },
    { 'idempotency-key': randomUUID() },
  );
  const repriced = await command.request('PUT', `/products/${id}/price`, { amount: 1700, currency: 'EUR' });
  assert.equal(reserved.status, 201);
  assert.equal(repriced.status, 200);
  const latest = (repriced.body as { version: number }).version;

  const after = await getJson(`${query.url}/products/${id}?minVersion=${latest}&maxWaitMs=10000`);
  assert.equal(after.status, 200);
  assert.equal(after.body.version, latest);
  assert.equal(after.body.stock, 7);
  assert.deepEqual(after.body.price, { amount: 1700, currency: 'EUR' });

  const history = await getJson<{ items: { price: { amount: number } }[] }>(
    `${query.url}/products/${id}/price-history`,
  );
  assert.deepEqual(
    history.body.items.map((i) => i.price.amount),
    [1500, 1700],
  );
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { createProducer } from '../../../src/infra/kafka.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import { eventually, kafkaClient, mongoClient, uniqueName } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { createTopics, publish, removeFromKafka } from './support/events.ts';
import { getJson, type QueryService, startQueryService } from './support/service.ts';

const topic = uniqueName('q-pages');
const deadLetterTopic = `${topic}.dlq`;
const database = uniqueName('q_pages').replaceAll('-', '_');
const kafka = kafkaClient('query-pages-test');
const admin = kafka.admin();
const mongo = mongoClient();
let producer: Producer;
let service: QueryService;
const streams = Array.from({ length: 60 }, () => new StreamBuilder());

type Page = { items: { id: string }[]; nextCursor: string | null };

before(async () => {
  await admin.connect();
  await createTopics(admin, [
    { topic, partitions: 3 },
    { topic: deadLetterTopic, partitions: 1 },
  ]);
  producer = createProducer(kafka);
  await producer.connect();
  await publish(
    producer,
    topic,
    streams.map((s, i) =>
      s.created({ name: `Item ${String(i).padStart(3, '0')}`, price: { amount: 100 + i, currency: 'EUR' } }),
    ),
  );
  service = await startQueryService({ topic, deadLetterTopic, group: topic, database, partitions: 3 });
  await eventually(
    async () => (await getJson<Page>(`${service.url}/products?limit=100`)).body.items.length === streams.length,
    { timeoutMs: 60_000, what: 'every product listed' },
  );
});

after(async () => {
  await service?.stop();
  await producer?.disconnect();
  await removeFromKafka(admin, [topic, deadLetterTopic], [topic]);
  await admin.disconnect();
  await mongo.db(database).dropDatabase();
  await mongo.close();
});

/**
 * Moves products across the whole sort order between pages: prices jump from the cheapest to the
 * dearest and back, every write changes updatedAt, names flip, and new products appear.
 */
function churn(round: number): ProductEnvelope[] {
  const events: ProductEnvelope[] = [];
  for (const [i, s] of streams.entries()) {
    if ((i + round) % 3 !== 0) continue;
    events.push(s.priceChanged(s.price.amount > 1000 ? 50 + i : 5000 + i));
    events.push(s.renamed(s.name.startsWith('Item') ? `Zz ${i}` : `Aa ${i}`));
  }
  events.push(new StreamBuilder().created({ name: `New ${round}`, price: { amount: 99, currency: 'EUR' } }));
  return events;
}

for (const sort of ['price', '-price', 'name', '-updatedAt']) {
  test(`paging by ${sort} while products move returns each product that existed throughout exactly once`, async () => {
    const seen: string[] = [];
    let round = 0;
    let page = (await getJson<Page>(`${service.url}/products?limit=7&sort=${sort}`)).body;
    seen.push(...page.items.map((p) => p.id));
    while (page.nextCursor) {
      await publish(producer, topic, churn(round++));
      // Let the projection apply the churn, so that the next page is read while documents have moved.
      await new Promise((resolve) => setTimeout(resolve, 700));
      page = (await getJson<Page>(`${service.url}/products?limit=7&sort=${sort}&cursor=${page.nextCursor}`)).body;
      seen.push(...page.items.map((p) => p.id));
    }
    assert.ok(round >= 5, 'several pages were read under writes');
    assert.equal(new Set(seen).size, seen.length, 'no product twice');
    const original = new Set(streams.map((s) => s.id));
    assert.deepEqual(
      new Set(seen.filter((id) => original.has(id))),
      original,
      'no product that existed throughout skipped',
    );
  });
}

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Consumer } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '../../../src/projections/dead-letters.ts';
import { viewCollectionNames } from '../../../src/projections/generations.ts';
import { eventually, uniqueName } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { getJson, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('refused', 1);
let consumer: Consumer;
let service: QueryService;
const readerGroup = uniqueName('q-refused-reader');
const letters: { key: string; headers: Record<string, string> }[] = [];

before(async () => {
  await bed.open();
  consumer = bed.kafka.consumer({ groupId: readerGroup });
  await consumer.connect();
  await consumer.subscribe({ topic: bed.deadLetterTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      letters.push({
        key: message.key?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  service = await startQueryService(bed.service);
});

after(async () => {
  await service?.stop();
  await consumer?.disconnect();
  await bed.close([readerGroup]);
});

/** The product once the view holds `minVersion`, waiting up to `timeoutMs` (maxWaitMs is at most 10 s a request). */
async function readVersion(id: string, minVersion: number, timeoutMs: number) {
  let answer: Awaited<ReturnType<typeof getJson<{ version: number; price: { amount: number } }>>> | undefined;
  await eventually(
    async () => {
      answer = await getJson(`${service.url}/products/${id}?minVersion=${minVersion}&maxWaitMs=10000`);
      return answer.status !== 503;
    },
    { timeoutMs, what: `version ${minVersion} of ${id}` },
  );
  return answer as NonNullable<typeof answer>;
}

test('a record MongoDB refuses is bisected out of its chunk and dead-lettered; the rest of the chunk and the partition go on', async () => {
  // A constraint the view does not expect (as an operator might add): product names unique. The
  // second product named "Twin" can never be written; nothing in the event itself is malformed.
  await eventually(
    async () =>
      (
        await bed.mongo
          .db(bed.database)
          .listCollections({ name: viewCollectionNames(1).products })
          .toArray()
      ).length === 1,
    { timeoutMs: 20_000, what: 'the products view collection' },
  );
  const products = bed.mongo.db(bed.database).collection(viewCollectionNames(1).products);
  await products.createIndex({ name: 1 }, { unique: true });

  const before = new StreamBuilder();
  const twin = new StreamBuilder();
  const refused = new StreamBuilder();
  const after = new StreamBuilder();
  const events = [
    before.created({ name: 'Before' }),
    twin.created({ name: 'Twin' }),
    refused.created({ name: 'Twin' }),
    after.created({ name: 'After' }),
    refused.priceChanged(2000),
    after.priceChanged(2500),
  ];
  await bed.publish(events, events.length);

  // Each refusal reloads the partition from MongoDB before the next try: on a busy machine that takes a while.
  await eventually(async () => letters.length >= 1, { timeoutMs: 180_000, what: 'the dead letter' });
  const letter = letters[0] as (typeof letters)[number];
  assert.equal(letter.key, refused.id);
  assert.equal(letter.headers[DEAD_LETTER_HEADERS.reason], 'unwritable');
  assert.equal(letter.headers[DEAD_LETTER_HEADERS.sourceOffset], '2');
  assert.match(letter.headers[DEAD_LETTER_HEADERS.detail] ?? '', /MongoDB refused the write/);

  // The partition goes on past it: a product created afterwards is projected.
  const later = new StreamBuilder();
  await bed.publish([later.created({ name: 'Later' })]);
  assert.equal((await readVersion(later.id, 1, 90_000)).status, 200, 'the partition must move past the refused record');
  const last = await readVersion(after.id, 2, 10_000);
  assert.equal(last.status, 200);
  assert.equal(last.body.price.amount, 2500);
  for (const id of [before.id, twin.id]) {
    assert.equal((await getJson(`${service.url}/products/${id}`)).status, 200);
  }
  assert.equal((await getJson(`${service.url}/products/${refused.id}`)).status, 404);
  assert.equal(letters.length, 1, 'only the refused record is dead-lettered');

  // Its later event waits for a version that will never come: a parked gap, shown in /projections.
  const status = await getJson<{ partitions: { gaps: { count: number; oldestParkedAt: string | null } | null }[] }>(
    `${service.url}/projections`,
  );
  assert.equal(status.status, 200);
  assert.equal(status.body.partitions[0]?.gaps?.count, 1);
  assert.ok(status.body.partitions[0]?.gaps?.oldestParkedAt);
});

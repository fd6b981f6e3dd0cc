import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toProductView } from '../../../src/projections/views/products/view.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { catalogEvents } from './support/catalog.ts';
import { getJson, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('replay', 4);
const { database, mongo } = bed;
let service: QueryService;

const caughtUp = () =>
  eventually(async () => (await getJson<{ totalLag: number }>(`${service.url}/projections`)).body.totalLag === 0, {
    timeoutMs: 120_000,
    what: 'projection lag 0',
  });

async function viewsSnapshot() {
  const db = mongo.db(database);
  const products = (await db.collection('products_g1').find({}).sort({ _id: 1 }).toArray()) as never[];
  const history = await db.collection('product_price_history_g1').find({}).sort({ _id: 1 }).toArray();
  const stats = (await getJson(`${service.url}/stats`)).body;
  return { products: products.map(toProductView), history, stats };
}

const metric = async (outcome: string) => {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const match = new RegExp(`projection_events_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text);
  return Number(match?.[1] ?? 0);
};

before(async () => {
  await bed.open();
  service = await startQueryService(bed.service);
});

after(async () => {
  await service?.stop();
  await bed.close();
});

test('publishing the same events again changes no view and no stat', async () => {
  const events = catalogEvents(100, 8);
  await bed.publish(events);
  await caughtUp();
  const first = await viewsSnapshot();
  assert.equal(first.products.length, 100);
  const duplicatesBefore = await metric('duplicate');

  // A relay that republished a range, then everything once more.
  await bed.publish(events.slice(150, 450));
  await bed.publish(events);
  await caughtUp();

  assert.deepEqual(await viewsSnapshot(), first);
  assert.equal((await metric('duplicate')) - duplicatesBefore, 300 + events.length);
});

test('an event ahead of a missing version is parked and counted, then applied when the gap fills', async () => {
  const stream = new StreamBuilder();
  const [v1, v2, v3] = [stream.created({ stock: 5 }), stream.restocked(1), stream.reserved(2)];
  const parkedBefore = await metric('parked');
  await bed.publish([v1, v3]);
  await caughtUp();
  const early = await getJson<{ version: number; stock: number }>(`${service.url}/products/${stream.id}`);
  assert.equal(early.body.version, 1);
  assert.equal((await metric('parked')) - parkedBefore, 1);
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /projection_gaps_total\{[^}]*\} [1-9]/);

  await bed.publish([v2]);
  const filled = await getJson<{ version: number; stock: number }>(
    `${service.url}/products/${stream.id}?minVersion=3&maxWaitMs=10000`,
  );
  assert.equal(filled.status, 200);
  assert.equal(filled.body.stock, 4);
  const parked = await mongo.db(database).collection('parked_events_g1').countDocuments({ aggregateId: stream.id });
  assert.equal(parked, 0);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { viewCollectionNames } from '../../../src/projections/generations.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { getJson, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('fence', 1);
let service: QueryService;

before(async () => {
  await bed.open();
  service = await startQueryService(bed.service);
});

after(async () => {
  await service?.stop();
  await bed.close();
});

test('a fenced writer never overwrites a newer version: it reloads, drops what is older, and builds on the newer', async () => {
  const stream = new StreamBuilder();
  await bed.publish([stream.created({ name: 'Before the takeover' }), stream.priceChanged(1500)]);
  const first = await getJson<{ version: number }>(`${service.url}/products/${stream.id}?minVersion=2&maxWaitMs=10000`);
  assert.equal(first.status, 200);

  // Another writer (a member that took the partition over, say) moves the product to version 5
  // behind the back of this service's actor, which still holds version 2.
  const products = bed.mongo.db(bed.database).collection<{ _id: string }>(viewCollectionNames(1).products);
  const moved = await products.updateOne(
    { _id: stream.id },
    { $set: { version: 5, name: 'Written by the other writer', 'price.amount': 4200 } },
  );
  assert.equal(moved.modifiedCount, 1);

  const stale = stream.priceChanged(1600); // version 3: older than what MongoDB holds now
  stream.version = 5;
  const next = stream.priceChanged(1700); // version 6: follows the other writer's version 5
  await bed.publish([stale]);
  await bed.publish([next]);

  const view = await getJson<{ version: number; name: string; price: { amount: number } }>(
    `${service.url}/products/${stream.id}?minVersion=6&maxWaitMs=10000`,
  );
  assert.equal(view.status, 200);
  assert.equal(view.body.version, 6);
  assert.equal(view.body.name, 'Written by the other writer', 'version 3 must not have overwritten version 5');
  assert.equal(view.body.price.amount, 1700);

  const stored = (await products.findOne({ _id: stream.id })) as unknown as { version: number; name: string };
  assert.equal(stored.version, 6);
  assert.equal(stored.name, 'Written by the other writer');

  await eventually(
    async () => {
      const metrics = await fetch(`${service.url}/metrics`).then((r) => r.text());
      const fenced = /^projection_fenced_writes_total\{[^}]*runtime="live"[^}]*\} (\d+)/m.exec(metrics);
      return fenced !== null && Number(fenced[1]) >= 1;
    },
    { timeoutMs: 10_000, what: 'a fenced write counted' },
  );
});

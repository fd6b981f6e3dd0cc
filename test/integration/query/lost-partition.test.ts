import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { getJson, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('lease', 1);
const services: QueryService[] = [];

before(async () => {
  await bed.open();
});

after(async () => {
  for (const service of services) {
    service.child.kill('SIGCONT');
    await service.kill();
  }
  await bed.close();
});

type Status = { partitions: { ownedHere: boolean }[] };
const ownsThePartition = async (service: QueryService) =>
  (await getJson<Status>(`${service.url}/projections`)).body.partitions.some((p) => p.ownedHere);

test('a member whose session expired while it was frozen stops serving its partition from memory', async () => {
  const first = await startQueryService(bed.service);
  services.push(first);
  const stream = new StreamBuilder();
  await bed.publish([stream.created(), stream.priceChanged(1500)]);
  const held = await getJson<{ version: number }>(`${first.url}/products/${stream.id}?minVersion=2&maxWaitMs=10000`);
  assert.equal(held.status, 200);

  // Frozen (a long GC pause, a stopped container): no heartbeats, so the group gives its partition
  // to the second member once the session (6 s in these tests) expires; the second moves the product on.
  first.child.kill('SIGSTOP');
  const second = await startQueryService(bed.service);
  services.push(second);
  await eventually(() => ownsThePartition(second), {
    timeoutMs: 60_000,
    what: 'the second member to own the partition',
  });
  await bed.publish([stream.priceChanged(1700)]);
  const moved = await getJson<{ version: number }>(`${second.url}/products/${stream.id}?minVersion=3&maxWaitMs=10000`);
  assert.equal(moved.status, 200);

  // Thawed, the first member still holds version 2 in memory and has not heard from the group yet:
  // it must read MongoDB rather than answer from memory.
  first.child.kill('SIGCONT');
  const read = await getJson<{ version: number; price: { amount: number } }>(`${first.url}/products/${stream.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.version, 3, 'a member that may have lost its partition must not serve its stale memory');
  assert.equal(read.body.price.amount, 1700);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from '../../support/env.ts';
import { QueryBed } from './support/bed.ts';
import { catalogEvents } from './support/catalog.ts';
import { privateEventStore, runVerify } from './support/event-store.ts';
import { storeEvents } from './support/events.ts';
import { getJson, mongoUrlFor, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('group', 6);
const { database } = bed;
let store: Awaited<ReturnType<typeof privateEventStore>>;
const services: QueryService[] = [];
// A cache far smaller than a partition's products: documents are evicted and read back all along.
const options = { ...bed.service, env: { PROJECTION_CACHE_SIZE: '20' } };

type Status = { totalLag: number; partitions: { partition: number; ownedHere: boolean; state: string | null }[] };
const projections = async (service: QueryService) => (await getJson<Status>(`${service.url}/projections`)).body;
const owned = async (service: QueryService) =>
  (await projections(service)).partitions.filter((p) => p.ownedHere).map((p) => p.partition);

/** `query_view_reads_total` of a service, by kind and source. */
async function viewReads(service: QueryService): Promise<Record<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const reads: Record<string, number> = {};
  for (const [line, value] of text.matchAll(/^query_view_reads_total\{.*\} (\d+)$/gm)) {
    const kind = /kind="(\w+)"/.exec(line)?.[1];
    const source = /source="(\w+)"/.exec(line)?.[1];
    reads[`${kind} from ${source}`] = Number(value);
  }
  return reads;
}

/** `projection_state_loads_total` of a service's live projection, by outcome. */
async function stateLoads(service: QueryService): Promise<{ loaded: number; kept: number }> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const count = (outcome: string) =>
    Number(
      new RegExp(`^projection_state_loads_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
    );
  return { loaded: count('loaded'), kept: count('kept') };
}

before(async () => {
  await bed.open();
  store = await privateEventStore();
});

after(async () => {
  for (const service of services) await service.kill();
  await bed.close();
  await store?.drop();
});

test('two query services in one group share the partitions, survive losing one, and end verify-clean (small cache)', async () => {
  const events = catalogEvents(300, 8);
  await storeEvents(store.sql, events);
  // Started together, as replicas are: both race to create the generation's collections.
  const start = async () => {
    const service = await startQueryService(options);
    services.push(service);
    return service;
  };
  const [a, b] = await Promise.all([start(), start()]);
  if (!a || !b) throw new Error('services did not start');

  const shared = await eventually(
    async () => {
      const [mine, theirs] = await Promise.all([owned(a), owned(b)]);
      const all = [...mine, ...theirs].sort();
      return mine.length > 0 && theirs.length > 0 && all.join() === '0,1,2,3,4,5' ? { mine, theirs } : undefined;
    },
    { timeoutMs: 60_000, what: 'both members to own partitions' },
  );
  assert.equal(shared.mine.filter((p) => shared.theirs.includes(p)).length, 0, 'no partition has two owners');

  const firstHalf = events.slice(0, 1200);
  await bed.publish(firstHalf, 100);
  // Each member answers a product by id from its projection's memory when it owns the partition and
  // from MongoDB when not: both must give the same document.
  const latest = new Map(firstHalf.map((e) => [e.aggregateId, e.version]));
  for (const [id, version] of latest) {
    const [fromA, fromB] = await Promise.all(
      [a, b].map((s) => getJson(`${s.url}/products/${id}?minVersion=${version}&maxWaitMs=10000`)),
    );
    assert.equal(fromA?.status, 200, `${id} from a`);
    assert.equal(fromB?.status, 200, `${id} from b`);
    assert.deepEqual(fromA?.body, fromB?.body, `${id}: the same document from both members`);
    assert.equal(fromA?.headers.get('etag'), fromB?.headers.get('etag'));
  }
  for (const service of [a, b]) {
    const reads = await viewReads(service);
    assert.ok(
      (reads['product from memory'] ?? 0) > 0 && (reads['product from mongodb'] ?? 0) > 0,
      `reads by source: ${JSON.stringify(reads)}`,
    );
  }
  await b.kill();
  await bed.publish(events.slice(1200), 100);
  await eventually(async () => (await owned(a)).length === 6, { timeoutMs: 60_000, what: 'the survivor to own all' });
  await eventually(async () => (await projections(a)).totalLag === 0, {
    timeoutMs: 240_000,
    intervalMs: 500,
    what: 'lag 0',
  });

  // A state kept across the rebalance is reclaimed at its actor's next batch or idle tick, which can
  // come after lag 0 when the partition had nothing new since: wait until every actor runs.
  await eventually(async () => (await projections(a)).partitions.every((p) => p.state === 'running'), {
    timeoutMs: 30_000,
    what: "all of the survivor's actors to run",
  });
  // The survivor kept the state of the partitions it had held throughout (nobody else wrote them)
  // and loaded the ones the other member had written.
  const loads = await stateLoads(a);
  assert.ok(loads.kept >= shared.mine.length, `state loads of the survivor: ${JSON.stringify(loads)}`);
  assert.ok(loads.loaded >= 6, `state loads of the survivor: ${JSON.stringify(loads)}`);

  const verify = await runVerify({ DATABASE_URL: store.url, MONGO_URL: mongoUrlFor(database) }, 30_000);
  assert.equal(verify.code, 0, verify.output);
  assert.match(verify.output, /verify: clean\. 2400 events, 300 products/);
});

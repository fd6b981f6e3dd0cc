import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, mongoUrl } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { freePort, getJson, type QueryService, startQueryService } from './support/service.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const bed = new QueryBed('outage', 2);
const { topic, deadLetterTopic, database, group, admin } = bed;
let service: QueryService;
let proxy: TcpProxy;

const committed = async () => {
  const [offsets] = await admin.fetchOffsets({ groupId: `${group}.g1`, topics: [topic] });
  return (offsets?.partitions ?? []).map((p) => Number(p.offset)).reduce((a, b) => a + Math.max(b, 0), 0);
};

before(async () => {
  await bed.open();
  const target = new URL(mongoUrl);
  proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 27017) });
  await proxy.open();
  service = await startQueryService({
    topic,
    deadLetterTopic,
    group,
    database,
    partitions: 2,
    env: { MONGO_URL: `mongodb://127.0.0.1:${proxy.port}/${database}` },
  });
});

after(async () => {
  await service?.kill();
  await proxy?.cut();
  await bed.close();
});

test('with MongoDB gone the partitions pause without moving offsets or crashing, and resume when it returns', async () => {
  const stream = new StreamBuilder();
  await bed.publish([stream.created({ stock: 1 })]);
  const first = await getJson(`${service.url}/products/${stream.id}?minVersion=1&maxWaitMs=10000`);
  assert.equal(first.status, 200);
  await eventually(async () => (await committed()) === 1, { what: 'the first offset committed' });

  await proxy.cut();
  const pending = [stream.restocked(1), stream.restocked(1), stream.restocked(1)];
  await bed.publish(pending);

  const ready = await getJson<{ checks: { mongodb: string } }>(`${service.url}/health/ready`);
  assert.equal(ready.status, 503);
  assert.notEqual(ready.body.checks.mongodb, 'ok');
  await eventually(
    async () => /projection_partition_paused\{[^}]*\} 1/.test(await (await fetch(`${service.url}/metrics`)).text()),
    { timeoutMs: 30_000, what: 'a partition paused' },
  );
  // A paused actor has given up its documents (the failed write's outcome is unknown), so the read
  // goes to MongoDB, which does not answer.
  const read = await getJson(`${service.url}/products/${stream.id}`);
  assert.equal(read.status, 503);
  assert.ok(read.headers.get('retry-after'));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(await committed(), 1, 'no offset moved while nothing could be written');
  assert.equal(service.child.exitCode, null, 'the service is still running');

  await proxy.open();
  const resumed = await getJson<{ version: number; stock: number }>(
    `${service.url}/products/${stream.id}?minVersion=4&maxWaitMs=10000`,
  );
  assert.equal(resumed.status, 200);
  assert.equal(resumed.body.stock, 4);
  await eventually(async () => (await committed()) === 4, { what: 'every offset committed after the outage' });
  assert.equal((await getJson(`${service.url}/health/ready`)).status, 200);
});

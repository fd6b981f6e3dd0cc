import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, mongoUrl } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { freePort, getJson, type QueryService, startQueryService } from './support/service.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

/**
 * A MongoDB that answers, but slowly: every partition's chunk takes longer than the consumer's
 * session timeout (6 s here), as a first load of whole partitions from FerretDB under load does after
 * a rebuild's switch. kafkajs heartbeats only between batches: without the actors' keep-alive, the
 * coordinator dropped the member, each commit failed with UNKNOWN_MEMBER_ID and the group rejoined
 * without end (seen on the local stack, lag growing for good).
 */

const PARTITIONS = 6;
const bed = new QueryBed('slow-mongo', PARTITIONS);
const { topic, deadLetterTopic, database, group, admin } = bed;
const DELAY_MS = 3_500;
let service: QueryService;
let proxy: TcpProxy;

const committed = async () => {
  const [offsets] = await admin.fetchOffsets({ groupId: `${group}.g1`, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
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
    partitions: PARTITIONS,
    env: { MONGO_URL: `mongodb://127.0.0.1:${proxy.port}/${database}`, KAFKA_SESSION_TIMEOUT_MS: '6000' },
  });
});

after(async () => {
  await service?.kill();
  await proxy?.cut();
  await bed.close();
});

test('chunks slower than the session timeout on every partition still commit: no endless rebalancing', async () => {
  const streams = Array.from({ length: 60 }, () => new StreamBuilder());
  await bed.publish(streams.map((s) => s.created({ stock: 1 })));
  await eventually(async () => (await committed()) === 60, { what: 'the first offsets committed' });

  // Every write now takes 3.5 s to be acknowledged; a chunk writes twice in a row (shard and history,
  // then the products) and waits behind the actor's watermark writes: about 7-10 s, on every partition.
  proxy.delayMs = DELAY_MS;
  await bed.publish(streams.map((s) => s.restocked(1)));
  await eventually(async () => (await committed()) === 120, {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: 'every offset committed while MongoDB is slow',
  });
  const last = streams[59] as StreamBuilder;
  assert.equal((await getJson(`${service.url}/products/${last.id}?minVersion=2&maxWaitMs=10000`)).status, 200);
  const output = service.output();
  const rejoins = (output.match(/The coordinator is not aware of this member/g) ?? []).length;
  const membership = output
    .split('\n')
    .filter((line) => /coordinator|rebalanc|crash|heartbeat|assigned/i.test(line))
    .slice(-20);
  assert.equal(rejoins, 0, `the member never lost its session; what it logged:\n${membership.join('\n')}`);
  assert.equal(service.child.exitCode, null);
});

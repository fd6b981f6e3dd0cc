import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MongoServerSelectionError } from 'mongodb';
import { createLogger } from '../../../src/infra/logger.ts';
import { createMongo, isMongoUnavailable, type MongoClient } from '../../../src/infra/mongo.ts';
import { MongoWatchdog } from '../../../src/infra/mongo-watchdog.ts';
import { eventually, mongoUrl, uniqueName } from '../../support/env.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.ts';

const logger = createLogger('mongo-watchdog-test', 'silent');
const target = new URL(mongoUrl);
const collectionName = uniqueName('watchdog');
let proxy: TcpProxy;
let url: string;

before(async () => {
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 27017) });
  url = `mongodb://127.0.0.1:${proxy.port}${target.pathname}`;
});

after(async () => {
  const direct = createMongo(mongoUrl, { logger, appName: 'watchdog-test-cleanup', maxPoolSize: 1 });
  await direct
    .db()
    .collection(collectionName)
    .drop()
    .catch(() => undefined);
  await direct.close();
  await proxy.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connected(): Promise<MongoClient> {
  const client = createMongo(url, { logger, appName: 'watchdog-test', maxPoolSize: 4 });
  await client.connect();
  await client
    .db()
    .collection(collectionName)
    .updateOne({ _id: 1 as never }, { $set: { n: 1 } }, { upsert: true });
  return client;
}

/** A watchdog on `client`, looking every 250 ms, and how many times it reconnected it. */
function watch(client: MongoClient, timings: { graceMs: number; probeTimeoutMs: number }) {
  let reconnects = 0;
  const watchdog = new MongoWatchdog(
    client,
    url,
    { intervalMs: 250, ...timings },
    {
      logger,
      onReconnect: () => {
        reconnects += 1;
      },
    },
  );
  return { watchdog, reconnects: () => reconnects };
}

/** Driver internals, in this test only: what the client looked like in CI, made on purpose. */
function stopServerMonitors(client: MongoClient): void {
  type Internals = { topology: { s: { servers: Map<string, { monitor?: { close(): void } }> } } };
  for (const server of (client as unknown as Internals).topology.s.servers.values()) server.monitor?.close();
}

const read = (client: MongoClient) => client.db().collection(collectionName).findOne({});

/** Reads in a loop until `stop`, counting what failed; what a projection and its readers do meanwhile. */
function readLoops(client: MongoClient, loops: number) {
  let running = true;
  const failures: unknown[] = [];
  const done = Promise.all(
    Array.from({ length: loops }, async () => {
      while (running) {
        await read(client).catch((error: unknown) => failures.push(error));
        await sleep(20);
      }
    }),
  );
  return {
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

test('MongoDB reset connections under in-flight reads: every failure is one the services treat as "unavailable"', async () => {
  const client = await connected();
  const loops = readLoops(client, 4);
  try {
    for (let round = 0; round < 20; round += 1) {
      proxy.cut();
      await sleep(100);
    }
  } finally {
    await loops.stop();
  }
  const unclassified = loops.failures.filter((error) => !isMongoUnavailable(error));
  assert.ok(loops.failures.length > 0, 'the cuts failed some reads');
  assert.deepEqual(
    unclassified.map((error) => `${(error as Error).name}: ${(error as Error).message}`),
    [],
    'failures that would answer 500 or stall a partition as a refusal',
  );
  assert.ok(await read(client), 'the client reads again');
  await client.close();
});

test('a client that stopped watching its server is reconnected once MongoDB has answered fresh clients for a while', async () => {
  const client = await connected();
  // Made with the client, as the query service does; it only starts looking once the client is stuck.
  const watched = watch(client, { graceMs: 2_000, probeTimeoutMs: 2_000 });
  // The state seen in CI, made on purpose: the client's server monitor stops (driver internals, in
  // this test only), then MongoDB resets connections under reads in flight. The server is marked
  // unknown and, with no monitor, stays so.
  stopServerMonitors(client);
  let knowsServer = true;
  client.on('topologyDescriptionChanged', (event) => {
    knowsServer = event.newDescription.hasKnownServers;
  });
  // A cut fails a read as "unknown server" only when it catches the read waiting for its answer.
  const loops = readLoops(client, 4);
  for (let round = 0; round < 50 && knowsServer; round += 1) {
    await sleep(100);
    proxy.cut();
  }
  await loops.stop();
  assert.equal(knowsServer, false, 'a cut marked the server unknown');
  await assert.rejects(read(client), MongoServerSelectionError, 'the client is stuck');

  watched.watchdog.start();
  try {
    await eventually(() => read(client).then((doc) => doc !== null), {
      timeoutMs: 30_000,
      what: 'the stuck client to read again',
    });
    assert.equal(watched.reconnects(), 1);
  } finally {
    await watched.watchdog.stop();
    await client.close();
  }
});

test('while MongoDB is down nothing is reconnected, and a healthy client comes back by itself', async () => {
  const client = await connected();
  // A grace longer than a healthy client needs to see a returning server while it has reads waiting.
  const watched = watch(client, { graceMs: 5_000, probeTimeoutMs: 1_000 });
  watched.watchdog.start();
  const loops = readLoops(client, 2);
  try {
    await proxy.refuse();
    await sleep(7_000);
    assert.ok(loops.failures.length > 0, 'reads failed while MongoDB was unreachable');
    assert.equal(watched.reconnects(), 0, 'no reconnect while fresh clients fail too');
    await proxy.accept();
    await eventually(() => read(client).then((doc) => doc !== null), {
      timeoutMs: 30_000,
      what: 'the client to read again',
    });
    await sleep(6_000);
    assert.equal(watched.reconnects(), 0, 'the client came back on its own');
  } finally {
    await loops.stop();
    await watched.watchdog.stop();
    await client.close();
  }
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Bulkhead } from '../../../src/infra/bulkhead.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';
import type { Sql } from '../../../src/infra/postgres.ts';
import { DeadLetterSink } from '../../../src/projections/dead-letters.ts';
import { createProjectionMetrics } from '../../../src/projections/metrics.ts';
import { beginRebuild, type RebuildProgress } from '../../../src/projections/rebuild.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import type { StatsShardDoc } from '../../../src/projections/views/catalog-stats/shard-doc.ts';
import type { PriceHistoryDoc } from '../../../src/projections/views/price-history/view.ts';
import type { ProductDoc } from '../../../src/projections/views/products/view.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { catalogEvents } from './support/catalog.ts';
import { privateEventStore, runVerify } from './support/event-store.ts';
import { storeEvents } from './support/events.ts';
import { ADMIN_TOKEN, getJson, mongoUrlFor, type QueryService, startQueryService } from './support/service.ts';

/**
 * Rebuilds from the event store on the real stack: a test event store (a PostgreSQL schema of its
 * own), a test topic and a test views database. The event store holds every event; the topic lacks
 * the streams of `OLD` products, as if the topic's retention had deleted them.
 */

const bed = new QueryBed('rebuild', 4);
const { topic, deadLetterTopic, database, mongo } = bed;
let store: { sql: Sql; url: string; drop: () => Promise<void> };
let service: QueryService;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const OLD = 20;
const oldIds = new Set<string>();

type Status = { totalLag: number; consumerGroup: string; generation: number };
const status = async () => (await getJson<Status>(`${service.url}/projections`)).body;
/** The service projects `generation` and its reads use it (they move once it caught up with the old views). */
const serving = async (generation: number) => {
  const { consumerGroup, generation: read } = await status();
  return consumerGroup === `${topic}.g${generation}` && read === generation;
};
const caughtUp = () =>
  eventually(async () => (await status()).totalLag === 0, { timeoutMs: 120_000, what: 'projection lag 0' });

/** A generation's documents as stored: products without their projection time, price history, stats shards. */
async function views(generation: number) {
  const db = mongo.db(database);
  const products = await db.collection<ProductDoc>(`products_g${generation}`).find({}).sort({ _id: 1 }).toArray();
  const history = await db
    .collection<PriceHistoryDoc>(`product_price_history_g${generation}`)
    .find({})
    .sort({ _id: 1 })
    .toArray();
  const shards = await db.collection<StatsShardDoc>(`catalog_stats_g${generation}`).find({}).sort({ _id: 1 }).toArray();
  return {
    products: products.map(({ validFrom, ...doc }) => doc),
    history,
    // Offsets, counters and last event times must match; watermarks and write times are each writer's own.
    shards: shards.map(({ watermark, updatedAt, ...counted }) => counted),
  };
}

const verify = () => runVerify({ DATABASE_URL: store.url, MONGO_URL: mongoUrlFor(database) }, 30_000);

/** Appends to the event store and publishes to the topic, as the command side and its relay do. */
async function append(events: ProductEnvelope[]): Promise<void> {
  await storeEvents(store.sql, events);
  await bed.publish(events);
}

const storedCount = async () => Number((await store.sql`select count(*)::int as n from events`)[0]?.n);

before(async () => {
  await bed.open();
  store = await privateEventStore();
  const events = catalogEvents(250, 8);
  for (const e of events) if (oldIds.size < OLD && e.version === 1) oldIds.add(e.aggregateId);
  await storeEvents(store.sql, events);
  // The old products' events are in the event store only: the topic no longer has them.
  await bed.publish(events.filter((e) => !oldIds.has(e.aggregateId)));
  service = await startQueryService({ ...bed.service, env: { DATABASE_URL: store.url } });
  await caughtUp();
});

after(async () => {
  await service?.stop();
  await bed.close();
  await store?.drop();
});

test('an admin rebuild reads the event store: the live documents plus those the topic lost, reads answering throughout', async () => {
  const live = await views(1);
  assert.equal(live.products.length, 250 - OLD);
  const started = await fetch(`${service.url}/admin/rebuild`, { method: 'POST', headers: auth });
  assert.equal(started.status, 202);
  assert.equal(((await started.json()) as { generation: number }).generation, 2);
  const again = await fetch(`${service.url}/admin/rebuild`, { method: 'POST', headers: auth });
  assert.equal(again.status, 409);

  const someId = live.products[0]?._id;
  const answers: number[] = [];
  let progress: RebuildProgress | undefined;
  while (progress?.phase !== 'done') {
    const [byId, list, stats] = await Promise.all([
      fetch(`${service.url}/products/${someId}`),
      fetch(`${service.url}/products?limit=5&sort=-price`),
      fetch(`${service.url}/stats`),
    ]);
    answers.push(byId.status, list.status, stats.status);
    progress = (await getJson<RebuildProgress>(`${service.url}/admin/rebuild`, { headers: auth })).body;
    assert.notEqual(progress?.phase, 'failed', JSON.stringify(progress));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`# rebuild read ${progress.eventsRead} events at ${progress.eventsPerSecond} events/s (start to switch)`);
  assert.deepEqual(new Set(answers), new Set([200]), 'every read during the rebuild answered 200');
  assert.equal(progress.totalEvents, 2000, 'the events were counted first');
  assert.equal(progress.eventsRead, 2000);
  assert.equal(progress.percent, 100);
  assert.equal(progress.products, 250);
  assert.equal(progress.productsWritten, 250);
  assert.ok(progress.eventsPerSecond > 0);
  assert.deepEqual(
    progress.partitions.map((p) => [p.partition, p.handover]),
    live.shards.map((s) => [s.partition, s.offset + 1]),
    'handed over at the end offsets of the topic',
  );

  const rebuilt = await views(2);
  // The products the live projection has are exactly its documents, partition included.
  assert.deepEqual(
    rebuilt.products.filter((doc) => !oldIds.has(doc._id)),
    live.products,
  );
  assert.deepEqual(
    rebuilt.history.filter((doc) => !oldIds.has(doc.productId)),
    live.history,
  );
  // Those whose events the topic no longer has are there too, with their price history.
  assert.deepEqual(
    rebuilt.products
      .map((doc) => doc._id)
      .filter((id) => oldIds.has(id))
      .sort(),
    [...oldIds].sort(),
  );
  assert.ok(rebuilt.history.some((doc) => oldIds.has(doc.productId)));
  assert.deepEqual(
    rebuilt.shards.map((s) => [s._id, s.offset]),
    live.shards.map((s) => [s._id, s.offset]),
  );
  const checked = await verify();
  assert.equal(checked.code, 0, checked.output);

  await eventually(() => serving(2), {
    timeoutMs: 30_000,
    what: 'the service to follow the new generation',
  });
  const [oldId] = oldIds;
  assert.equal((await getJson(`${service.url}/products/${oldId}`)).status, 200, 'a product the topic lost is served');
  // The live projection continues in the new generation from where the rebuild stopped.
  const late = new StreamBuilder();
  await append([late.created({ name: 'After the rebuild' })]);
  const read = await getJson<{ name: string }>(`${service.url}/products/${late.id}?minVersion=1&maxWaitMs=10000`);
  assert.equal(read.status, 200);
  assert.equal(read.body.name, 'After the rebuild');
});

test('events appended during a rebuild reach the new views once: via the read, the topic, or both', async () => {
  await caughtUp();
  const before = await views(2);
  const storedBefore = await storedCount();
  const [first, second] = before.products;
  assert.ok(first && second);
  // Streams that continue existing products, and new ones.
  const continued = (doc: (typeof before.products)[number]) => {
    const b = new StreamBuilder(doc._id);
    b.version = doc.version;
    b.price = doc.price;
    b.stock = doc.stock;
    return b;
  };
  const duringRead = continued(first);
  const newDuringRead = new StreamBuilder();
  const afterRead = continued(second);
  const newAfterRead = new StreamBuilder();
  const readEvents = [duringRead.priceChanged(4321), newDuringRead.created(), newDuringRead.priceChanged(77)];
  const writeEvents = [afterRead.priceChanged(8765), newAfterRead.created(), newAfterRead.restocked(3)];

  const registry = createRegistry('rebuild-test');
  const metrics = createProjectionMetrics(registry);
  const appends: Promise<void>[] = [];
  const phases: string[] = [];
  const handle = await beginRebuild(
    {
      topic,
      baseGroup: bed.group,
      partitions: bed.partitions,
      batchSize: 500,
      cacheSize: 20_000,
      versionTtlMs: 600_000,
      watermarkIntervalMs: 1_000,
      sessionTimeoutMs: 6_000,
      staleGapMs: 60_000,
    },
    {
      kafka: bed.kafka,
      admin: bed.admin,
      sql: store.sql,
      db: mongo.db(database),
      gate: new Bulkhead('test writes', 4),
      deadLetters: new DeadLetterSink(bed.producer, deadLetterTopic),
      metrics,
      logger: createLogger('rebuild-test', 'warn'),
    },
    (progress) => {
      if (phases.at(-1) === progress.phase) return;
      phases.push(progress.phase);
      // After the offsets were recorded, while the event store is read: the read may see these or not.
      if (progress.phase === 'reading') appends.push(append(readEvents));
      // Once the read is over: only the topic can bring these.
      if (progress.phase === 'writing') appends.push(append(writeEvents));
    },
    { pageSize: 100, insertBatch: 200 },
  );
  assert.equal(handle.generation, 3);
  const done = await handle.finished;
  await Promise.all(appends);
  assert.deepEqual(phases, ['counting', 'reading', 'writing', 'catching-up', 'switching', 'done']);

  const readAlso = done.eventsRead - storedBefore;
  assert.ok(
    readAlso >= 0 && readAlso <= readEvents.length,
    `read ${done.eventsRead} of ${storedBefore} + ${readEvents.length}`,
  );
  console.log(`# the read saw ${readAlso} of the ${readEvents.length} events appended during it`);
  await eventually(() => serving(3), {
    timeoutMs: 30_000,
    what: 'the service to follow generation 3',
  });
  for (const [id, version] of [
    [duringRead.id, duringRead.version],
    [newDuringRead.id, newDuringRead.version],
    [afterRead.id, afterRead.version],
    [newAfterRead.id, newAfterRead.version],
  ] as const) {
    const read = await getJson<{ version: number }>(
      `${service.url}/products/${id}?minVersion=${version}&maxWaitMs=10000`,
    );
    assert.equal(read.status, 200, `${id} v${version}`);
    assert.equal(read.body.version, version);
  }
  // What the read had applied came through the topic again and was dropped by the version guard.
  const duplicates = (await registry.getSingleMetricAsString('projection_events_total'))
    .split('\n')
    .filter((line) => line.includes('runtime="rebuild"') && line.includes('outcome="duplicate"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  assert.ok(duplicates >= readAlso, `${duplicates} duplicates dropped, ${readAlso} events read and published`);
  // Nothing applied twice, nothing missing: documents, price history and stats equal the event store's fold.
  await caughtUp();
  const checked = await verify();
  assert.equal(checked.code, 0, checked.output);
  const history = await mongo
    .db(database)
    .collection('product_price_history_g3')
    .find({ productId: { $in: [duringRead.id, newDuringRead.id, afterRead.id, newAfterRead.id] } })
    .toArray();
  assert.deepEqual(
    history.map((h) => h._id).sort(),
    [
      `${duringRead.id}:${duringRead.version}`,
      `${newDuringRead.id}:1`,
      `${newDuringRead.id}:2`,
      `${afterRead.id}:${afterRead.version}`,
      `${newAfterRead.id}:1`,
    ]
      .concat(
        before.history.filter((h) => h.productId === duringRead.id || h.productId === afterRead.id).map((h) => h._id),
      )
      .sort(),
  );
});

test('npm run rebuild (scripts/rebuild.ts) shows rate and ETA, and switches to a new generation with the same views', async () => {
  await caughtUp();
  const before = await views(3);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rebuild.ts'], {
    cwd: join(import.meta.dirname, '..', '..', '..'),
    env: {
      ...process.env,
      DATABASE_URL: store.url,
      MONGO_URL: mongoUrlFor(database),
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      KAFKA_CONSUMER_GROUP: topic,
      KAFKA_PARTITIONS: String(bed.partitions),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output);
  const stored = (await storedCount()).toLocaleString('en-US');
  assert.match(output, /rebuild g4: counting the events of the event store/);
  assert.match(output, new RegExp(`rebuild g4: reading [\\d,]+/${stored} events \\(\\d+%\\), [\\d,]+ events/s, ETA`));
  assert.match(output, /rebuild g4: writing [\d,]+\/[\d,]+ products \(\d+%\), [\d,]+ documents\/s, ETA/);
  assert.match(
    output,
    new RegExp(
      `rebuild g4: views switched after ${stored} events from the event store \\([\\d,]+ products, \\d+ records from the topic\\) in [\\d.]+ s, [\\d,]+ events/s`,
    ),
  );
  assert.deepEqual(await views(4), before);
  await eventually(() => serving(4), {
    timeoutMs: 30_000,
    what: 'the service to follow generation 4',
  });
  const collections = (await mongo.db(database).listCollections().toArray()).map((c) => c.name);
  assert.ok(collections.includes('products_g3'), 'the previous generation stays for open cursors');
  assert.ok(collections.includes('products_g2'), 'dropped only by the next rebuild');
  assert.ok(!collections.includes('products_g1'), 'the one before was dropped by this rebuild');
});

test('under a steady write load, the switch at the end of an admin rebuild never makes a read go back in version', async () => {
  await caughtUp();
  const listed = await getJson<{ items: { id: string }[] }>(`${service.url}/products?limit=20&sort=name`);
  assert.equal(listed.status, 200);
  type Product = { id: string; version: number; price: { amount: number; currency: string }; stock: number };
  const streams = await Promise.all(
    listed.body.items.map(async ({ id }) => {
      const { body } = await getJson<Product>(`${service.url}/products/${id}`);
      const stream = new StreamBuilder(id);
      stream.version = body.version;
      stream.price = body.price;
      stream.stock = body.stock;
      return stream;
    }),
  );
  assert.equal(streams.length, 20);

  let loaded = true;
  let written = 0;
  const writer = (async () => {
    for (let i = 0; loaded; i++) {
      const stream = streams[i % streams.length] as StreamBuilder;
      await append([stream.priceChanged(stream.price.amount + 1)]);
      written += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const highest = new Map<string, number>();
  const wentBack: string[] = [];
  let reads = 0;
  const reader = (async () => {
    while (loaded) {
      await Promise.all(
        streams.map(async ({ id }) => {
          const { status, body } = await getJson<{ version: number }>(`${service.url}/products/${id}`);
          assert.equal(status, 200);
          reads += 1;
          const seen = highest.get(id) ?? 0;
          if (body.version < seen) wentBack.push(`${id}: v${body.version} after v${seen}`);
          highest.set(id, Math.max(seen, body.version));
        }),
      );
    }
  })();

  const started = await fetch(`${service.url}/admin/rebuild`, { method: 'POST', headers: auth });
  assert.equal(started.status, 202);
  const { generation } = (await started.json()) as { generation: number };
  let progress: RebuildProgress | undefined;
  while (progress?.phase !== 'done') {
    await new Promise((resolve) => setTimeout(resolve, 100));
    progress = (await getJson<RebuildProgress>(`${service.url}/admin/rebuild`, { headers: auth })).body;
    assert.notEqual(progress?.phase, 'failed', JSON.stringify(progress));
  }
  await eventually(() => serving(generation), {
    timeoutMs: 30_000,
    what: `the service to follow generation ${generation}`,
  });
  // Some more load on the new generation, then every product reaches its last version there.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  loaded = false;
  await Promise.all([writer, reader]);
  for (const stream of streams) {
    const read = await getJson<{ version: number }>(
      `${service.url}/products/${stream.id}?minVersion=${stream.version}&maxWaitMs=10000`,
    );
    assert.equal(read.status, 200, `${stream.id} v${stream.version}`);
    assert.equal(read.body.version, stream.version);
  }
  console.log(`# ${written} price changes and ${reads} reads across the switch to generation ${generation}`);
  assert.ok(written >= 20 && reads >= 100, `${written} writes and ${reads} reads made a load`);
  assert.deepEqual(wentBack, []);
});

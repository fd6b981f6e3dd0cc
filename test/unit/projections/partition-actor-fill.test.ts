import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EachBatchPayload } from 'kafkajs';
import { createLogger } from '../../../src/infra/logger.ts';
import { Registry } from '../../../src/infra/metrics.ts';
import type { ChunkPlan } from '../../../src/projections/chunk-plan.ts';
import { createProjectionMetrics } from '../../../src/projections/metrics.ts';
import { type ActorOptions, PartitionActor } from '../../../src/projections/partition-actor.ts';
import { ProgressHub } from '../../../src/projections/progress-hub.ts';
import type { ViewStore } from '../../../src/projections/view-store.ts';
import { newCatalogIndex } from '../../../src/projections/views/products/memory-list.ts';
import { evolveProduct, type ProductDoc } from '../../../src/projections/views/products/view.ts';
import { kafkaMessage, StreamBuilder } from './stream-builder.ts';

/**
 * The partition actor reads its partition's products into its cache, and expires the versions missed
 * while stopped, beside its work rather than before it (see `PartitionActor.fillCache` and
 * `pruneMissedVersions`), against a store held in memory whose scans never end unless released.
 */

const PARTITION = 0;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** MongoDB's product documents, and a store over them whose partition read waits for `releaseScan`. */
function memoryStore() {
  const mongo = new Map<string, ProductDoc>();
  const scan = deferred<{ products: ProductDoc[]; complete: boolean }>();
  const prune = deferred<void>();
  const pruned: Date[] = [];
  const store = {
    takeSeed: () => undefined,
    loadPartitionState: async () => ({ shard: null, parked: [] }),
    loadPartitionProducts: () => scan.promise,
    loadProducts: async (_partition: number, ids: readonly string[]) =>
      ids.flatMap((id) => (mongo.has(id) ? [mongo.get(id) as ProductDoc] : [])),
    writeChunk: async (plan: ChunkPlan) => {
      for (const doc of plan.products) mongo.set(doc._id, doc);
    },
    deleteParked: async () => {},
    pruneVersions: async () => {},
    pruneVersionsBefore: (_partition: number, cutoff: Date) => {
      pruned.push(cutoff);
      return prune.promise;
    },
    readShard: async () => null,
    writeShard: async () => {},
  };
  return { mongo, store: store as unknown as ViewStore, releaseScan: scan.resolve, pruned };
}

type Metrics = ReturnType<typeof createProjectionMetrics>;

/** The partitions the actor reports filling (`projection_cache_filling`). */
async function filling(metrics: Metrics): Promise<number> {
  return (await metrics.cacheFilling.get()).values.reduce((sum, sample) => sum + sample.value, 0);
}

function actorOver(
  store: ViewStore,
  cacheSize: number,
  metrics: Metrics = createProjectionMetrics(new Registry()),
): PartitionActor {
  const options: ActorOptions = {
    runtime: 'live',
    topic: 'product-events',
    groupId: 'test',
    batchSize: 100,
    cacheSize,
    keepVersions: true,
    versionTtlMs: 600_000,
    watermarkIntervalMs: 60_000,
    staleGapMs: 60_000,
  };
  return new PartitionActor(PARTITION, options, {
    store,
    deadLetters: { send: async () => {} } as never,
    hub: new ProgressHub(),
    metrics,
    logger: createLogger('test', 'silent'),
    index: newCatalogIndex(),
  });
}

let nextOffset = 0;

/** One batch of the partition, as kafkajs hands it to `eachBatch`. */
function batchOf(envelopes: unknown[]): EachBatchPayload {
  const messages = envelopes.map((envelope) => kafkaMessage(envelope, nextOffset++));
  return {
    batch: { topic: 'product-events', partition: PARTITION, highWatermark: String(nextOffset), messages },
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
    resolveOffset: () => {},
    commitOffsetsIfNecessary: async () => {},
    pause: () => () => {},
  } as unknown as EachBatchPayload;
}

/** A product stored at version 1, and its stream to continue. */
function stored(mongo: Map<string, ProductDoc>): { stream: StreamBuilder; doc: ProductDoc } {
  const stream = new StreamBuilder();
  const doc = evolveProduct(null, stream.created(), PARTITION, new Date(0));
  mongo.set(doc._id, doc);
  return { stream, doc };
}

/** Lets the merge the released scan queued in the actor's mailbox run. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 10));

/** An actor that waits for a scan before its first chunk never finishes it: fail rather than hang. */
const liveness = { timeout: 10_000 };

test(
  "records are applied before the partition's products are read, and the read's copies never replace what the actor wrote since",
  liveness,
  async () => {
    const { mongo, store, releaseScan } = memoryStore();
    const a = stored(mongo);
    const b = stored(mongo);
    const unknown = new StreamBuilder().id;
    const metrics = createProjectionMetrics(new Registry());
    const actor = actorOver(store, 10, metrics);
    try {
      await actor.handle(batchOf([a.stream.priceChanged(1500)]));
      assert.equal(mongo.get(a.doc._id)?.version, 2, 'applied while the read of the products is still pending');
      assert.equal(actor.catalog(), undefined, 'lists are not served from an incomplete cache');
      assert.equal(actor.cached(unknown), undefined, 'an incomplete cache cannot say a product does not exist');
      assert.equal(await filling(metrics), 1, 'the partition is reported filling');

      releaseScan({ products: [a.doc, b.doc], complete: true });
      await settled();
      assert.equal(actor.cached(a.doc._id)?.version, 2, "the actor's own write is kept over the read's older copy");
      assert.equal(actor.cached(b.doc._id)?.version, 1, 'a product the actor had not touched comes from the read');
      assert.notEqual(actor.catalog(), undefined, 'a complete cache serves lists');
      assert.equal(actor.cached(unknown), null, 'and says, without MongoDB, that a product does not exist');
      assert.equal(await filling(metrics), 0);
    } finally {
      await actor.stop();
    }
  },
);

test(
  'a cache that evicted a document while the products were read drops the read and stays incomplete',
  liveness,
  async () => {
    const { mongo, store, releaseScan } = memoryStore();
    const a = stored(mongo);
    const b = stored(mongo);
    const actor = actorOver(store, 1);
    try {
      // Two products through a cache of one: the first written is evicted, and the read may hold an
      // older copy of it than MongoDB does now.
      await actor.handle(batchOf([a.stream.priceChanged(1500), b.stream.priceChanged(1600)]));
      assert.equal(mongo.get(a.doc._id)?.version, 2);
      assert.equal(actor.cached(a.doc._id), undefined, 'evicted');

      releaseScan({ products: [a.doc], complete: true });
      await settled();
      assert.equal(actor.cached(a.doc._id), undefined, "the read's stale copy is not taken");
      assert.equal(actor.catalog(), undefined);
    } finally {
      await actor.stop();
    }
  },
);

test(
  'the versions that expired while no actor ran are pruned beside the first chunk, not before it',
  liveness,
  async () => {
    const { mongo, store, pruned } = memoryStore();
    const a = stored(mongo);
    const actor = actorOver(store, 10);
    try {
      const started = Date.now();
      await actor.handle(batchOf([a.stream.priceChanged(1500)]));
      assert.equal(mongo.get(a.doc._id)?.version, 2, 'applied while the prune is still pending');
      assert.equal(pruned.length, 1, 'one prune at the first load');
      const cutoff = (pruned[0] as Date).getTime();
      assert.ok(cutoff >= started - 600_000 && cutoff <= Date.now() - 600_000, 'versions older than their TTL');
      await actor.handle(batchOf([a.stream.priceChanged(1600)]));
      assert.equal(pruned.length, 1, 'not again for later chunks');
    } finally {
      await actor.stop();
    }
  },
);

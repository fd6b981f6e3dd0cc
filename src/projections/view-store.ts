import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { Bulkhead } from '../infra/bulkhead.ts';
import { type Collection, type Db, duplicateKeyIndexes, isOnlyDuplicateKeys } from '../infra/mongo.ts';
import type { ChunkPlan } from './chunk-plan.ts';
import { type ViewCollectionNames, viewCollectionNames } from './generations.ts';
import type { ParkedEventDoc } from './parked.ts';
import { fromShardDoc, type StatsShardDoc, toShardDoc } from './views/catalog-stats/shard-doc.ts';
import { emptyShard, type StatsShard, shardId } from './views/catalog-stats/view.ts';
import type { PriceHistoryDoc } from './views/price-history/view.ts';
import type { ProductVersionDoc } from './views/products/versions.ts';
import type { ProductDoc } from './views/products/view.ts';

export interface ViewCollections {
  generation: number;
  products: Collection<ProductDoc>;
  versions: Collection<ProductVersionDoc>;
  history: Collection<PriceHistoryDoc>;
  stats: Collection<StatsShardDoc>;
  parked: Collection<ParkedEventDoc>;
}

export function viewCollections(db: Db, generation: number): ViewCollections {
  const names: ViewCollectionNames = viewCollectionNames(generation);
  return {
    generation,
    products: db.collection<ProductDoc>(names.products),
    versions: db.collection<ProductVersionDoc>(names.versions),
    history: db.collection<PriceHistoryDoc>(names.history),
    stats: db.collection<StatsShardDoc>(names.stats),
    parked: db.collection<ParkedEventDoc>(names.parked),
  };
}

/**
 * Indexes a MongoDB needs for the list sorts and lookups. (FerretDB v1 keeps them but only uses the
 * unique `_id` index, for inserts.)
 */
const INDEXES: { [K in keyof ViewCollectionNames]: Record<string, 1 | -1>[] } = {
  products: [{ name: 1, id: 1 }, { 'price.amount': 1, id: 1 }, { updatedAt: 1, id: 1 }, { partition: 1 }],
  versions: [{ partition: 1, pruneBucket: 1 }, { validTo: 1 }],
  history: [{ productId: 1, version: 1 }],
  stats: [],
  parked: [{ partition: 1 }],
};

/** Creates a generation's collections and indexes, one at a time, before anything writes to them. */
export async function ensureViewCollections(db: Db, generation: number): Promise<ViewCollections> {
  await createViewCollections(db, generation, { indexes: true });
  return viewCollections(db, generation);
}

/**
 * Creates a generation's collections that are missing, one at a time, and with `indexes` their
 * indexes. A rebuild creates the indexes after its bulk inserts: building one over the documents
 * costs less than keeping it up to date through every insert.
 */
export async function createViewCollections(
  db: Db,
  generation: number,
  options: { indexes: boolean },
): Promise<ViewCollections> {
  const names = viewCollectionNames(generation);
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const [view, name] of Object.entries(names) as [keyof ViewCollectionNames, string][]) {
    if (!existing.has(name)) await createCollectionOnce(db, name);
    if (options.indexes) for (const keys of INDEXES[view]) await db.collection(name).createIndex(keys);
  }
  return viewCollections(db, generation);
}

const NAMESPACE_EXISTS = 48;

/** Another process starting at the same moment may create it first; that is the outcome wanted. */
async function createCollectionOnce(db: Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (error) {
    if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
  }
}

export interface PartitionSnapshot {
  shard: StatsShard | null;
  parked: ParkedEventDoc[];
  products: ProductDoc[];
  /** False when the partition holds more products than were loaded. */
  complete: boolean;
}

/** The writes of the projection, one partition's documents at a time; its actor is the only caller. */
export class ViewStore {
  constructor(
    readonly views: ViewCollections,
    private readonly gate: Bulkhead,
    /**
     * What MongoDB holds for some partitions, known without reading it (a rebuild has just written
     * it): each answers that partition's first load instead of MongoDB. Later loads (after a failed
     * write, whose outcome is unknown) read MongoDB.
     */
    private readonly seeds: Map<number, PartitionSnapshot> = new Map(),
  ) {}

  private readonly scans = new Bulkhead('partition scans', SCANS_IN_FLIGHT);

  /**
   * The partition's first load, when a rebuild left it in memory (its seed): cut to `productLimit`
   * products. Undefined for later loads (after a failed write, whose outcome is unknown), which read
   * MongoDB.
   */
  takeSeed(partition: number, productLimit: number): PartitionSnapshot | undefined {
    const seed = this.seeds.get(partition);
    if (!seed) return undefined;
    this.seeds.delete(partition);
    const complete = seed.complete && seed.products.length <= productLimit;
    return { ...seed, products: complete ? seed.products : seed.products.slice(0, productLimit), complete };
  }

  /** What an actor needs before it applies a record: the partition's stats shard and parked events. */
  async loadPartitionState(partition: number): Promise<Pick<PartitionSnapshot, 'shard' | 'parked'>> {
    const [shard, parked] = await Promise.all([
      this.readShard(partition),
      this.views.parked.find({ partition }).toArray(),
    ]);
    return { shard, parked };
  }

  /**
   * The partition's product documents, up to `productLimit`. Partitions read theirs one at a time: a
   * partition of 22,000 products takes FerretDB 3 s, and the live writes need it meanwhile.
   */
  async loadPartitionProducts(
    partition: number,
    productLimit: number,
  ): Promise<Pick<PartitionSnapshot, 'products' | 'complete'>> {
    const docs = await this.scans.run(() =>
      this.views.products
        .find({ partition })
        .limit(productLimit + 1)
        .toArray(),
    );
    const complete = docs.length <= productLimit;
    return { products: complete ? docs : docs.slice(0, productLimit), complete };
  }

  /** The partition's stats shard as MongoDB holds it (null before its first write); a read, like a load. */
  async readShard(partition: number): Promise<StatsShard | null> {
    const doc = await this.views.stats.findOne({ _id: shardId(partition) });
    return doc && fromShardDoc(doc);
  }

  /**
   * One `_id` equality per document, a few at a time, each through the partition's lane: FerretDB v1
   * answers `$in` by decoding the whole collection (50 s at 240,000 products, past the socket timeout,
   * so a partition whose products no longer fit its cache retried that scan for ever), while an
   * equality reaches PostgreSQL and the stack's `_id` index. A MongoDB serves either from its index.
   */
  async loadProducts(partition: number, ids: readonly string[]): Promise<ProductDoc[]> {
    const found: ProductDoc[] = [];
    let next = 0;
    const lookups = async () => {
      for (let id = ids[next++]; id !== undefined; id = ids[next++]) {
        const _id = id;
        const doc = await this.gate.run(() => this.views.products.findOne({ _id }), laneOf(partition));
        if (doc) found.push(doc);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOOKUPS_IN_FLIGHT, ids.length) }, lookups));
    return found;
  }

  /**
   * Writes a chunk so that a crash between any two steps is repaired by redelivery. First, together:
   * the stats shard (guarded by offset) and the documents keyed by event or version. Then the product
   * documents, which decide what redelivery applies again, so nothing they reflect can be missing
   * elsewhere. Last, the clean-up of parked events they applied.
   */
  async writeChunk(plan: ChunkPlan): Promise<void> {
    const { views } = this;
    const lane = laneOf(plan.shard.partition);
    await settleAll([
      this.writeShard(plan.shard),
      this.insertIdempotent(views.parked, plan.parkedInserts, lane),
      this.insertIdempotent(views.history, plan.historyInserts, lane),
      this.insertVersions(plan.versionInserts, lane),
    ]);
    const created = plan.products.filter((doc) => plan.created.has(doc._id));
    // One command per replace, not a bulkWrite: FerretDB v1.24.2 keeps each statement's PostgreSQL
    // connection until the whole command ends and takes another for its update, so a few concurrent
    // multi-statement updates use up its pool of 50 and it stops answering (seen here: 6 at once of
    // 10 replaces each, 1.4x the replaces per second until then).
    await settleAll([
      this.insertProducts(created, plan.shard.partition),
      ...plan.products
        .filter((doc) => !plan.created.has(doc._id))
        .map((doc) => this.replaceProduct(doc, plan.replaces.get(doc._id) ?? 0, lane)),
    ]);
    await this.deleteParked(plan.shard.partition, plan.parkedDeletes);
  }

  /**
   * Replaces the document only if it still holds the version the actor planned from: an equality
   * filter FerretDB pushes down with the `_id`. No match means another writer (a member that took the
   * partition over, a rebuild's switch) moved the product on: the actor must reload, never overwrite.
   */
  private async replaceProduct(doc: ProductDoc, replacedVersion: number, lane: string): Promise<void> {
    const result = await this.gate.run(
      () => this.views.products.replaceOne({ _id: doc._id, version: replacedVersion }, doc),
      lane,
    );
    if (result.matchedCount === 0) throw new FencedWrite(doc._id, replacedVersion);
  }

  /**
   * New products in one insert (a replace costs FerretDB a lookup and an update each; a rebuild
   * creates every product). A product whose `_id` is already there was written by someone this actor
   * does not know of (another member, or an attempt of its own whose outcome it never learnt): the
   * actor reloads. A duplicate key on another unique index is a write that cannot succeed.
   */
  private async insertProducts(docs: ProductDoc[], partition: number): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.gate.run(() => this.views.products.insertMany(docs, { ordered: false }), laneOf(partition));
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError) || !isOnlyDuplicateKeys(error)) throw error;
      const ids = duplicateKeyIndexes(error).map((index) => (docs[index] as ProductDoc)._id);
      const present = await this.loadProducts(partition, ids);
      if (present.length === 0) throw error;
      throw new FencedWrite((present[0] as ProductDoc)._id, 0);
    }
  }

  /** The whole shard, counters included: a shard written as doubles by an older version is rewritten exact. */
  async writeShard(shard: StatsShard): Promise<void> {
    await this.gate.run(
      () => this.views.stats.replaceOne({ _id: shard._id }, toShardDoc(shard), { upsert: true }),
      laneOf(shard.partition),
    );
  }

  async deleteParked(partition: number, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.gate.run(() => this.views.parked.deleteMany({ _id: { $in: ids } }), laneOf(partition));
  }

  /** Expires superseded versions by minute bucket: an equality filter FerretDB runs in PostgreSQL. */
  async pruneVersions(partition: number, buckets: number[]): Promise<void> {
    for (const pruneBucket of buckets) {
      await this.gate.run(() => this.views.versions.deleteMany({ partition, pruneBucket }), laneOf(partition));
    }
  }

  /**
   * Slow on FerretDB (decodes the partition's versions), so only at actor start, to catch buckets
   * missed while down, and one partition at a time, like the reads of their products.
   */
  async pruneVersionsBefore(partition: number, cutoff: Date): Promise<void> {
    await this.scans.run(() =>
      this.gate.run(() => this.views.versions.deleteMany({ partition, validTo: { $lt: cutoff } }), laneOf(partition)),
    );
  }

  private async insertIdempotent<T extends { _id: string }>(
    collection: Collection<T>,
    docs: T[],
    lane: string,
  ): Promise<void> {
    if (docs.length === 0) return;
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the driver's OptionalUnlessRequiredId does not narrow generics
      await this.gate.run(() => collection.insertMany(docs as any[], { ordered: false }), lane);
    } catch (error) {
      // Keyed by event or version: a document already there was written by an earlier attempt.
      if (!isOnlyDuplicateKeys(error)) throw error;
    }
  }

  /**
   * A version already stored by an interrupted attempt ends at that attempt's time; it must end at this
   * one's, when the product document actually moves on, or a snapshot between the two would miss it.
   */
  private async insertVersions(docs: ProductVersionDoc[], lane: string): Promise<void> {
    if (docs.length === 0) return;
    const { versions } = this.views;
    try {
      await this.gate.run(() => versions.insertMany(docs, { ordered: false }), lane);
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError) || !isOnlyDuplicateKeys(error)) throw error;
      for (const index of duplicateKeyIndexes(error)) {
        const doc = docs[index] as ProductVersionDoc;
        await this.gate.run(() => versions.replaceOne({ _id: doc._id }, doc), lane);
      }
    }
  }
}

/** A product write found a version other than the one it was planned from (see `replaceProduct`). */
export class FencedWrite extends Error {
  constructor(
    readonly productId: string,
    readonly expectedVersion: number,
  ) {
    super(
      expectedVersion === 0
        ? `product ${productId} already has a document this writer did not know of`
        : `product ${productId} is no longer at version ${expectedVersion}: another writer moved it on`,
    );
    this.name = 'FencedWrite';
  }
}

/** Each partition's writes queue in a lane of their own of the shared write bulkhead (see `Bulkhead`). */
const laneOf = (partition: number): string => `partition-${partition}`;

/** Partitions reading all their products or versions at the same time (see `loadPartitionProducts`). */
const SCANS_IN_FLIGHT = 1;

/** Lookups one partition keeps in flight; the write bulkhead bounds them across partitions. */
const LOOKUPS_IN_FLIGHT = 4;

/** Waits for every write before failing, so a retry never races a write still in flight. */
async function settleAll(writes: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * A shard for every partition, before any actor writes: until a partition's actor has advanced its
 * watermark, list snapshots wait for it rather than miss what it is about to write.
 */
export async function ensureShards(views: ViewCollections, partitions: number): Promise<void> {
  const existing = new Set((await views.stats.find({}, { projection: { _id: 1 } }).toArray()).map((s) => s._id));
  const missing = Array.from({ length: partitions }, (_, p) => toShardDoc(emptyShard(p))).filter(
    (s) => !existing.has(s._id),
  );
  if (missing.length === 0) return;
  try {
    await views.stats.insertMany(missing, { ordered: false });
  } catch (error) {
    // Another process created some of them at the same time.
    if (!isOnlyDuplicateKeys(error)) throw error;
  }
}

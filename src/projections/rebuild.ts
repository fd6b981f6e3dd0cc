import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { setGroupOffsets } from '../infra/kafka.ts';
import type { Logger } from '../infra/logger.ts';
import type { Collection, Db } from '../infra/mongo.ts';
import { isOnlyDuplicateKeys } from '../infra/mongo.ts';
import type { Sql } from '../infra/postgres.ts';
import { countEvents, nextTransactionId, readLogPages } from './event-store-log.ts';
import {
  consumerGroupOf,
  dropGeneration,
  GENERATIONS,
  generationsOnDisk,
  readPointer,
  switchPointer,
} from './generations.ts';
import { type ProjectionDeps, type ProjectionSettings, runtimeFor } from './live-projections.ts';
import { partitionerFor } from './partitioning.ts';
import { ProgressHub } from './progress-hub.ts';
import { CatalogFold } from './rebuild-fold.ts';
import {
  etaSeconds,
  percentOf,
  perSecond,
  progressLine,
  type RebuildPhase,
  type RebuildProgress,
} from './rebuild-progress.ts';
import type { ProjectionRuntime } from './runtime.ts';
import { createViewCollections, ensureViewCollections, type PartitionSnapshot } from './view-store.ts';
import { toShardDoc } from './views/catalog-stats/shard-doc.ts';
import type { PriceHistoryDoc } from './views/price-history/view.ts';
import type { ProductDoc } from './views/products/view.ts';

export type { RebuildProgress } from './rebuild-progress.ts';
export { progressLine };

export class RebuildInProgressError extends Error {
  constructor(readonly owner: string) {
    super(`a rebuild is already running (${owner})`);
    this.name = 'RebuildInProgressError';
  }
}

const LOCK_ID = 'rebuild-lock';
/** A lock not refreshed for this long belongs to a rebuild that died. */
const LOCK_STALE_MS = 60_000;

interface LockDoc {
  _id: string;
  owner: string;
  heartbeatAt: Date;
}

/**
 * One rebuild at a time across every process. The lock is a document with a fixed `_id`: its unique
 * index arbitrates, which FerretDB enforces in PostgreSQL, unlike a filtered update.
 */
async function acquireLock(db: Db, owner: string, logger: Logger): Promise<() => Promise<void>> {
  const locks = db.collection<LockDoc>(GENERATIONS);
  const take = () => locks.insertOne({ _id: LOCK_ID, owner, heartbeatAt: new Date() });
  try {
    await take();
  } catch (error) {
    if (!isOnlyDuplicateKeys(error)) throw error;
    const held = await locks.findOne({ _id: LOCK_ID });
    if (held && Date.now() - held.heartbeatAt.getTime() < LOCK_STALE_MS) throw new RebuildInProgressError(held.owner);
    await locks.deleteOne({ _id: LOCK_ID, owner: held?.owner ?? '' });
    try {
      await take();
    } catch (retry) {
      if (isOnlyDuplicateKeys(retry)) throw new RebuildInProgressError('another process took over a stale lock');
      throw retry;
    }
  }
  const heartbeat = setInterval(() => {
    locks
      .updateOne({ _id: LOCK_ID, owner }, { $set: { heartbeatAt: new Date() } })
      .catch((error: unknown) => logger.warn({ err: error }, 'rebuild lock heartbeat failed; retrying'));
  }, LOCK_STALE_MS / 6);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    await locks.deleteOne({ _id: LOCK_ID, owner });
  };
}

export interface RebuildDeps extends ProjectionDeps {
  admin: Admin;
  /** The event store, read-only. */
  sql: Sql;
}

export interface RebuildOptions {
  /** Events per page read from the event store. */
  pageSize: number;
  /** Documents per insert. */
  insertBatch: number;
  /** Inserts in flight; each also takes a slot of the MongoDB write gate the live projection shares. */
  insertConcurrency: number;
  /** How long the read waits for a transaction older than the rebuild to end (see `readLogPages`). */
  horizonTimeoutMs: number;
  /** Least time between two progress reports within a phase. */
  reportIntervalMs: number;
  /** The rebuild fails when its catch-up from the topic commits nothing for this long. */
  catchUpStallMs: number;
}

export const DEFAULT_REBUILD_OPTIONS: RebuildOptions = {
  pageSize: 10_000,
  insertBatch: 2_000,
  insertConcurrency: 4,
  horizonTimeoutMs: 60_000,
  reportIntervalMs: 250,
  catchUpStallMs: 300_000,
};

export interface RebuildHandle {
  generation: number;
  /** Settles when the rebuild has switched the views, or failed. */
  finished: Promise<RebuildProgress>;
}

/**
 * Rebuilds every view from the event store, the source of truth, into the next generation's
 * collections while the current generation keeps answering reads, then points reads and the live
 * projection at it (DESIGN.md section 4, Rebuild):
 *
 * 1. Counts the events (for the progress), then records each partition's end offset of the topic,
 *    then the id the next PostgreSQL transaction will get: every event published before the offsets
 *    were recorded was committed before that id was taken.
 * 2. Reads the whole log in commit order (`readLogPages`, which goes on until every transaction
 *    below that id has ended) and folds each product in memory with the projection's own functions
 *    (`CatalogFold`); inserts each document once, in bulk: price history entries while reading,
 *    products once read. The stats shards count every product, as of the recorded offsets.
 * 3. Sets the new generation's consumer group to the recorded offsets and, when anything was published
 *    since, catches up from the topic (twice: to the end as of the start of the catch-up, then as of
 *    then). Whatever was published
 *    from those offsets on arrives, and the version guard drops what the read already applied. Events
 *    the topic no longer has (retention, a recreated topic) are in the views all the same.
 * 4. Switches the pointer; every process's live projection follows into the new generation's group
 *    from where the catch-up committed. Reads use the old views until the switch.
 *
 * Resolves once the rebuild holds the lock and has begun.
 */
export async function beginRebuild(
  settings: ProjectionSettings,
  deps: RebuildDeps,
  onProgress: (progress: RebuildProgress) => void,
  options: Partial<RebuildOptions> = {},
): Promise<RebuildHandle> {
  const { db, admin, logger } = deps;
  const release = await acquireLock(db, `${process.pid}:${randomUUID()}`, logger);
  try {
    const pointer = await readPointer(db);
    const onDisk = await generationsOnDisk(db);
    const generation = Math.max(pointer.current, ...onDisk) + 1;
    for (const old of onDisk) {
      if (old === pointer.current || old === pointer.previous) continue;
      await dropGeneration(db, old);
      await deleteGroup(admin, consumerGroupOf(settings.baseGroup, old));
    }
    await deleteGroup(admin, consumerGroupOf(settings.baseGroup, generation));
    logger.info({ generation, from: pointer.current }, 'rebuild from the event store started');
    const chosen: RebuildOptions = { ...DEFAULT_REBUILD_OPTIONS, ...options };
    const tracker = new Tracker(generation, onProgress, chosen.reportIntervalMs);
    const finished = rebuild(generation, settings, deps, tracker, chosen).finally(release);
    return { generation, finished };
  } catch (error) {
    await release();
    throw error;
  }
}

async function rebuild(
  generation: number,
  settings: ProjectionSettings,
  deps: RebuildDeps,
  tracker: Tracker,
  options: RebuildOptions,
): Promise<RebuildProgress> {
  const { db, admin, sql, gate, logger } = deps;
  try {
    tracker.phase('counting');
    const totalEvents = await countEvents(sql);
    const handover = await endOffsets(admin, settings.topic);
    const through = await nextTransactionId(sql);
    tracker.update({
      totalEvents,
      partitions: [...handover].map(([partition, offset]) => ({ partition, handover: offset, offset, target: offset })),
    });
    logger.info(
      { generation, totalEvents, handover: Object.fromEntries(handover), through },
      'handover offsets recorded',
    );

    const views = await createViewCollections(db, generation, { indexes: false });
    const validFrom = new Date();
    const fold = new CatalogFold(partitionerFor(handover.size), validFrom);
    const inserts = new BulkInserts(gate, options.insertConcurrency);
    const written = { products: 0, history: 0 };
    const countHistory = (count: number) => {
      written.history += count;
      tracker.update({ priceHistoryWritten: written.history });
    };

    tracker.phase('reading');
    let history: PriceHistoryDoc[] = [];
    for await (const page of readLogPages(sql, {
      pageSize: options.pageSize,
      through,
      horizonTimeoutMs: options.horizonTimeoutMs,
    })) {
      for (const event of page) fold.add(event);
      history = history.concat(fold.takeHistory());
      while (history.length >= options.insertBatch) {
        await inserts.insert(views.history, history.slice(0, options.insertBatch), countHistory);
        history = history.slice(options.insertBatch);
      }
      tracker.update({ eventsRead: fold.counts.events, products: fold.productCount, skipped: skippedOf(fold) });
    }
    if (history.length > 0) await inserts.insert(views.history, history, countHistory);
    tracker.update({ eventsRead: fold.counts.events, products: fold.productCount, skipped: skippedOf(fold) }, true);

    tracker.phase('writing');
    let chunk: ProductDoc[] = [];
    const countProducts = (count: number) => {
      written.products += count;
      tracker.update({ productsWritten: written.products });
    };
    for (const doc of fold.products()) {
      chunk.push(doc);
      if (chunk.length < options.insertBatch) continue;
      await inserts.insert(views.products, chunk, countProducts);
      chunk = [];
    }
    if (chunk.length > 0) await inserts.insert(views.products, chunk, countProducts);
    const parked = fold.parkedEvents();
    if (parked.length > 0) await inserts.insert(views.parked, parked, () => {});
    await inserts.drain();
    const shards = fold.shards(handover, new Date());
    await views.stats.insertMany(shards.map(toShardDoc));
    await ensureViewCollections(db, generation);
    tracker.update({ productsWritten: written.products, priceHistoryWritten: written.history }, true);
    if (skippedOf(fold) > 0 || fold.counts.parked > 0) {
      logger.warn(
        { skipped: fold.counts.skipped, parked: fold.counts.parked },
        'events of the event store the projection cannot apply were left out, as the live projection does',
      );
    }

    // The new generation's projection continues from the offsets recorded before the read.
    const groupId = consumerGroupOf(settings.baseGroup, generation);
    await setGroupOffsets(deps.kafka, {
      groupId,
      topic: settings.topic,
      partitions: [...handover].map(([partition, offset]) => ({ partition, offset: String(offset) })),
    });
    tracker.phase('catching-up');
    // The catch-up's actors start from the documents just written, not from reading them back.
    const seeds = new Map<number, PartitionSnapshot>(
      shards.map((shard) => [shard.partition, { shard, parked: [], products: [], complete: true }]),
    );
    for (const doc of fold.products()) seeds.get(doc.partition)?.products.push(doc);
    for (const event of parked) seeds.get(event.partition)?.parked.push(event);
    await catchUp(generation, settings, deps, { handover, seeds }, tracker, options.catchUpStallMs);

    tracker.phase('switching');
    await switchPointer(db, generation);
    const done = tracker.finish();
    logger.info(
      {
        generation,
        events: done.eventsRead,
        products: done.products,
        fromTopic: done.caughtUp,
        eventsPerSecond: done.eventsPerSecond,
      },
      'rebuild done; views switched',
    );
    return done;
  } catch (error) {
    tracker.fail(error as Error);
    throw error;
  }
}

/** Runs the new generation's projection from the handover offsets until it has reached the topic's end. */
async function catchUp(
  generation: number,
  settings: ProjectionSettings,
  deps: RebuildDeps,
  start: { handover: ReadonlyMap<number, number>; seeds: Map<number, PartitionSnapshot> },
  tracker: Tracker,
  stallTimeoutMs: number,
): Promise<void> {
  const { handover, seeds } = start;
  const committed = new Map(handover);
  let runtime: ProjectionRuntime | undefined;
  const report = (targets: ReadonlyMap<number, number>) => {
    for (const p of runtime?.progress() ?? [])
      if (p.committedOffset !== null) committed.set(p.partition, p.committedOffset);
    const partitions = [...targets].map(([partition, target]) => ({
      partition,
      handover: handover.get(partition) ?? 0,
      offset: committed.get(partition) ?? 0,
      target,
    }));
    tracker.update({
      partitions,
      caughtUp: partitions.reduce((sum, p) => sum + Math.max(0, p.offset - p.handover), 0),
    });
    return partitions;
  };
  let targets = await endOffsets(deps.admin, settings.topic);
  report(targets);
  // Nothing published since the handover (a quiet catalog): joining a new consumer group (Kafka's
  // initial rebalance delay, 3 s by default) and leaving it again would only delay the switch.
  if (publishedSince(handover, targets) === 0) return;
  let fatal: Error | undefined;
  runtime = await runtimeFor(
    generation,
    'rebuild',
    settings,
    { ...deps, hub: new ProgressHub() },
    (error) => {
      fatal = error;
    },
    seeds,
  );
  await runtime.start();
  let moved = { at: Date.now(), consumed: -1 };
  try {
    // To the end as of the start, then to the end as of then: what remains after that is little,
    // and the live processes continue from the committed offsets once they follow the pointer.
    for (let round = 0; round < 2; round++) {
      if (round > 0) targets = await endOffsets(deps.admin, settings.topic);
      for (;;) {
        if (fatal) throw fatal;
        const partitions = report(targets);
        if (partitions.every((p) => p.offset >= p.target)) break;
        const consumed = partitions.reduce((sum, p) => sum + p.offset, 0);
        if (consumed !== moved.consumed) moved = { at: Date.now(), consumed };
        else if (Date.now() - moved.at > stallTimeoutMs) {
          throw new Error(`the catch-up from the topic committed nothing for ${stallTimeoutMs / 1000} s`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await runtime.stop();
  }
}

/** Records the topic received after the handover offsets, by its end offsets now. */
export function publishedSince(handover: ReadonlyMap<number, number>, ends: ReadonlyMap<number, number>): number {
  let published = 0;
  for (const [partition, end] of ends) published += Math.max(0, end - (handover.get(partition) ?? 0));
  return published;
}

const skippedOf = (fold: CatalogFold): number =>
  Object.values(fold.counts.skipped).reduce((sum, count) => sum + (count ?? 0), 0);

/** Keeps the progress, derives its rates and ETA, and reports it at most every `intervalMs` within a phase. */
class Tracker {
  private readonly started = Date.now();
  private readingSince: number | undefined;
  private writingSince: number | undefined;
  private lastReport = 0;
  private current: RebuildProgress;

  constructor(
    generation: number,
    private readonly onProgress: (progress: RebuildProgress) => void,
    private readonly intervalMs: number,
  ) {
    this.current = {
      generation,
      phase: 'counting',
      startedAt: new Date(this.started).toISOString(),
      finishedAt: null,
      totalEvents: 0,
      eventsRead: 0,
      percent: 0,
      eventsPerSecond: 0,
      products: 0,
      productsWritten: 0,
      priceHistoryWritten: 0,
      documentsPerSecond: 0,
      skipped: 0,
      etaSeconds: null,
      partitions: [],
      caughtUp: 0,
      error: null,
    };
  }

  phase(phase: RebuildPhase): void {
    const now = Date.now();
    if (phase === 'reading') this.readingSince = now;
    if (phase === 'writing') this.writingSince = now;
    this.update({ phase }, true);
  }

  update(patch: Partial<RebuildProgress>, force = false): void {
    const now = Date.now();
    const p = { ...this.current, ...patch };
    const read = now - (this.readingSince ?? now);
    p.percent = percentOf(p.eventsRead, p.totalEvents);
    p.documentsPerSecond = perSecond(p.productsWritten + p.priceHistoryWritten, read);
    if (p.phase === 'reading') {
      p.eventsPerSecond = perSecond(p.eventsRead, read);
      p.etaSeconds = etaSeconds(p.totalEvents - p.eventsRead, p.eventsPerSecond);
    } else if (p.phase === 'writing') {
      p.etaSeconds = etaSeconds(
        p.products - p.productsWritten,
        perSecond(p.productsWritten, now - (this.writingSince ?? now)),
      );
    } else {
      p.etaSeconds = null;
    }
    this.current = p;
    if (!force && now - this.lastReport < this.intervalMs) return;
    this.lastReport = now;
    this.onProgress(this.snapshot());
  }

  /** Done: `eventsPerSecond` becomes the events read per second from the start to the switch. */
  finish(): RebuildProgress {
    const now = Date.now();
    this.current = {
      ...this.current,
      phase: 'done',
      finishedAt: new Date(now).toISOString(),
      eventsPerSecond: perSecond(this.current.eventsRead, now - this.started),
      etaSeconds: 0,
    };
    const done = this.snapshot();
    this.onProgress(done);
    return done;
  }

  fail(error: Error): void {
    this.current = { ...this.current, phase: 'failed', error: error.message, etaSeconds: null };
    this.onProgress(this.snapshot());
  }

  private snapshot(): RebuildProgress {
    return { ...this.current, partitions: this.current.partitions.map((p) => ({ ...p })) };
  }
}

/**
 * Inserts in bulk with at most `concurrency` inserts in flight, each through the MongoDB write gate;
 * `insert` waits for a free slot (back-pressure on the read). The first failure fails every later call.
 */
class BulkInserts {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly gate: ProjectionDeps['gate'],
    private readonly concurrency: number,
  ) {}

  async insert<T extends { _id: string }>(
    collection: Collection<T>,
    docs: T[],
    onWritten: (count: number) => void,
  ): Promise<void> {
    while (this.inFlight.size >= this.concurrency && !this.failure) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure.error;
    const write = this.gate
      // biome-ignore lint/suspicious/noExplicitAny: the driver's OptionalUnlessRequiredId does not narrow generics
      .run(() => collection.insertMany(docs as any[], { ordered: false }))
      .then(
        () => onWritten(docs.length),
        (error: unknown) => {
          // A fresh generation holds no documents: a duplicate is a bug, not an earlier attempt.
          this.failure ??= {
            error: isOnlyDuplicateKeys(error) ? new Error(`duplicate _id in a rebuild insert`) : error,
          };
        },
      )
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure.error;
  }
}

/** Each partition's end offset (the offset the next record will get). */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)] as const).sort(([a], [b]) => a - b));
}

/** A generation's consumer group is only ever used with its collections; drop it with them. */
async function deleteGroup(admin: Admin, groupId: string): Promise<void> {
  try {
    await admin.deleteGroups([groupId]);
  } catch (error) {
    const groups = (error as { groups?: { errorCode?: number; error?: { type?: string } }[] }).groups ?? [];
    if (groups.length > 0 && groups.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND')) return;
    throw error;
  }
}

import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from '../infra/logger.ts';
import { isMongoUnavailable, isWriteRefused } from '../infra/mongo.ts';
import { planChunk } from './chunk-plan.ts';
import type { DeadLetterSink } from './dead-letters.ts';
import type { ProjectionMetrics } from './metrics.ts';
import { groupParked, longestParked, type ParkedEventDoc, type ParkedEventInfo, summarizeParked } from './parked.ts';
import { ProductCache } from './product-cache.ts';
import type { ProgressHub } from './progress-hub.ts';
import { type DecodedRecord, decodeRecord } from './record.ts';
import { SupersededVersions } from './superseded-versions.ts';
import { FencedWrite, type ViewStore } from './view-store.ts';
import { emptyShard, type StatsShard, unchangedSince } from './views/catalog-stats/view.ts';
import type { CatalogIndex, PartitionCatalog } from './views/products/memory-list.ts';
import { pruneBucketOf } from './views/products/versions.ts';
import type { ProductDoc } from './views/products/view.ts';

export interface ActorOptions {
  runtime: 'live' | 'rebuild';
  topic: string;
  groupId: string;
  batchSize: number;
  cacheSize: number;
  keepVersions: boolean;
  /** How long superseded versions (and so list cursors) live. */
  versionTtlMs: number;
  /** How often an idle actor advances its watermark. */
  watermarkIntervalMs: number;
  /** A parked event older than this is reported as a stale gap. */
  staleGapMs: number;
}

export interface ActorDeps {
  store: ViewStore;
  deadLetters: DeadLetterSink;
  hub: ProgressHub;
  metrics: ProjectionMetrics;
  logger: Logger;
  /** The process's list index, which the actor keeps its documents in while it holds them. */
  index: CatalogIndex;
}

interface LoadedState {
  shard: StatsShard;
  parked: Map<string, ParkedEventDoc[]>;
  cache: ProductCache;
  /** validFrom of the last chunk fully written: the watermark the next shard write may promise. */
  writtenUpTo: number;
  /** The versions this actor superseded, for as long as list cursors live. */
  versions: SupersededVersions;
  /** No version superseded before this instant is in `versions` (see `catalog`). */
  loadedAt: number;
}

export type ActorStatus = 'starting' | 'running' | 'paused' | 'stopped';

/** How often a batch in progress offers kafkajs a heartbeat (see `PartitionActor.handle`). */
const KEEP_ALIVE_MS = 1_000;
/** Delay before a failed read of a partition's products into the cache is tried again. */
const CACHE_FILL_RETRY_MS = 5_000;
/** Parked events an actor reports in its progress, the longest parked first. */
const PARKED_REPORTED = 20;

/** A chunk MongoDB refuses this many times in a row is split in two (see `PartitionActor.refused`). */
const REFUSALS_BEFORE_SPLIT = 2;

/** Retry delay after a refused or fenced write: the next attempt has something new to try at once. */
const QUICK_RETRY_MS = 100;

/**
 * How often applied offsets are committed. A commit is a round trip to the group coordinator; waiting
 * for one after every chunk held the next chunk back. Committing later is safe: what a restart
 * replays from an older offset, the version guard drops, and the stats shard counts by offset.
 */
const COMMIT_INTERVAL_MS = 1_000;

export interface ActorProgress {
  partition: number;
  status: ActorStatus;
  /** Next offset to consume (Kafka's committed offset); null until the actor committed once. */
  committedOffset: number | null;
  /** Next offset after the last chunk written: ahead of the committed offset by up to a second. */
  appliedOffset: number | null;
  highWatermark: number | null;
  lastEventAt: string | null;
  pausedReason: string | null;
  /** Events parked waiting for a missing version; null while the actor holds no state (starting, paused). */
  parkedCount: number | null;
  /** The longest parked of them. */
  parked: ParkedEventInfo[];
  /** When the longest-waiting of them was parked. */
  oldestParkedAt: string | null;
  /** How many have waited longer than the stale-gap bound. */
  staleParked: number;
}

/**
 * One partition's projection actor. Its mailbox is the partition: kafkajs hands it one batch at a time,
 * in offset order, and it is the only writer of the documents of the products in that partition
 * (FerretDB updates are read-modify-write without locks). A batch is applied in chunks; each chunk's
 * documents are written, then its offset committed, then waiting readers are told.
 *
 * When a write fails the actor forgets its state (the outcome is unknown, as in Akka Persistence),
 * pauses the partition without committing, and resumes once MongoDB answers again: the chunk is then
 * fetched anew and applied from what MongoDB holds. Nothing is skipped, however long that takes.
 */
export class PartitionActor {
  private state: LoadedState | undefined;
  /** The state held before a rebalance gave the partition back, until `reclaim` vouches for it. */
  private retained: LoadedState | undefined;
  /** Between a crash of the consumer and the next assignment (see `suspend`). */
  private suspended = false;
  private mailbox: Promise<void>;
  private status: ActorStatus = 'starting';
  private resume: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  private failures = 0;
  private pausedReason: string | null = null;
  private committedOffset: number | null = null;
  /** Next offset after the last chunk written; committed at most every COMMIT_INTERVAL_MS. */
  private appliedOffset: number | null = null;
  private lastCommitAt = 0;
  private commitInFlight: Promise<void> | null = null;
  private commitTo: ((offset: number) => Promise<void>) | undefined;
  private highWatermark: number | null = null;
  private lastPrunedBucket: number | null = null;
  /** Records per chunk: the batch size, less while a chunk that MongoDB refuses is being bisected. */
  private chunkLimit: number;
  /** Consecutive refusals of the chunk that starts at `offset`. */
  private refusals: { offset: number; count: number } | null = null;
  /** The last offset of the refused chunk being bisected: past it, chunks are whole again. */
  private bisectUntil: number | null = null;
  /** The record found to be refused on its own, with why: it goes to the dead-letter topic. */
  private unwritable: { offset: number; detail: string } | null = null;
  /** Stale parked events last reported, so that a lasting gap is logged once, not every tick. */
  private staleReported = 0;
  private readonly log: Logger;
  private readonly labels: { runtime: string; partition: string };

  constructor(
    readonly partition: number,
    private readonly options: ActorOptions,
    private readonly deps: ActorDeps,
    /** Settles when the actor this one replaces has stopped. */
    predecessorStopped: Promise<void> = Promise.resolve(),
  ) {
    this.mailbox = predecessorStopped;
    this.chunkLimit = options.batchSize;
    this.log = deps.logger.child({ partition, runtime: options.runtime });
    this.labels = { runtime: options.runtime, partition: String(partition) };
    // One idle tick in the mailbox at a time: when a tick's write takes longer than the interval (a
    // slow MongoDB), queued ticks would pile up ahead of every batch and starve the partition.
    let tickQueued = false;
    this.idleTimer = setInterval(() => {
      if (tickQueued) return;
      tickQueued = true;
      this.exclusive(() => this.idle())
        .catch((error: unknown) => this.log.warn({ err: error }, 'idle tick failed'))
        .finally(() => {
          tickQueued = false;
        });
    }, options.watermarkIntervalMs);
    this.idleTimer.unref();
  }

  /**
   * kafkajs `eachBatch` for this partition. kafkajs heartbeats only between batches (and when asked),
   * and its fetcher for a broker waits until every batch it handed out is done: with every partition
   * busy longer than the session timeout (a first load of whole partitions from FerretDB under load,
   * after a rebuild's switch or a restart; slow writes), the coordinator dropped the member, every
   * commit failed with UNKNOWN_MEMBER_ID, and the group rejoined and loaded again without end. So a
   * batch keeps the session alive while it is in this actor's hands, mailbox wait included; kafkajs
   * sends a heartbeat only once its interval has passed.
   */
  handle(payload: EachBatchPayload): Promise<void> {
    const keepAlive = setInterval(() => {
      payload.heartbeat().catch(() => {
        // A rebalance under way: the batch finishes, then kafkajs rejoins.
      });
    }, KEEP_ALIVE_MS);
    const fetchedAt = Date.now();
    return this.exclusive(() => this.process(payload, fetchedAt)).finally(() => clearInterval(keepAlive));
  }

  /**
   * The partition is assigned to this member again after a rebalance. A running actor keeps its
   * state, unserved, until its next load finds the partition's shard as it wrote it last (see
   * `reclaim`): reloading 140,000 products from FerretDB took a minute, and a broker's death can
   * cost two rebalances. False when there is nothing to keep; the caller replaces the actor.
   */
  keepAcrossRebalance(): boolean {
    this.suspended = false;
    if (this.retained && this.status === 'starting') return true;
    return this.retain();
  }

  /**
   * The consumer crashed and left the group; kafkajs restarts it. Until the next assignment says
   * whether the partition is still this member's, the actor writes nothing (another member may own
   * it meanwhile) and serves nothing, but keeps its state for `keepAcrossRebalance`.
   */
  suspend(): void {
    this.suspended = true;
    this.retain();
  }

  private retain(): boolean {
    if (this.status !== 'running' || !this.state) return false;
    this.retained = this.state;
    this.state = undefined;
    this.status = 'starting';
    // The member's generation changed: commits wait for a batch of the new one.
    this.commitTo = undefined;
    return true;
  }

  /**
   * Stops the actor once its chunk in progress is written. With `leaveIndex`, its documents stay in
   * the list index: the caller empties the whole index at once when every actor has stopped.
   */
  async stop({ leaveIndex = false } = {}): Promise<void> {
    this.status = 'stopped';
    clearInterval(this.idleTimer);
    clearTimeout(this.retryTimer);
    await this.mailbox;
    // A commit still in flight must land before a successor starts, or it could move the group's
    // offset back behind the successor's.
    await this.commitInFlight;
    if (leaveIndex) {
      this.state = undefined;
      this.retained = undefined;
    } else {
      this.dropState();
    }
    // A partition paused by this actor would stay paused if it came back to this consumer later.
    this.resume?.();
    this.resume = undefined;
    this.deps.metrics.paused.remove(this.labels);
    this.deps.metrics.lag.remove(this.labels);
    this.deps.metrics.parked.remove(this.labels);
    this.deps.metrics.staleGaps.remove(this.labels);
    this.deps.metrics.cacheFilling.remove(this.labels);
    this.deps.metrics.oldestParkedAge.remove(this.labels);
  }

  progress(): ActorProgress {
    const parked = summarizeParked(this.state?.parked ?? new Map(), Date.now(), this.options.staleGapMs);
    return {
      partition: this.partition,
      status: this.status,
      committedOffset: this.committedOffset,
      appliedOffset: this.appliedOffset,
      highWatermark: this.highWatermark,
      lastEventAt: this.state?.shard.lastEventAt?.toISOString() ?? null,
      pausedReason: this.pausedReason,
      parkedCount: this.state ? parked.count : null,
      parked: this.state ? longestParked(this.state.parked, PARKED_REPORTED) : [],
      oldestParkedAt: parked.oldestParkedAt?.toISOString() ?? null,
      staleParked: parked.stale,
    };
  }

  /**
   * The product's document as MongoDB holds it, when this actor holds it: documents enter the cache
   * only once MongoDB has acknowledged them (or returned them), and the actor is their only writer.
   * Null when the actor holds every product of the partition and not this one; undefined when it
   * cannot vouch either way (not loaded, paused, stopped, or not cached). Ask only the actor of the
   * id's partition: another one's null says nothing.
   */
  cached(id: string): ProductDoc | null | undefined {
    return this.status === 'running' ? this.state?.cache.peek(id) : undefined;
  }

  /**
   * What this actor vouches for in the list index, for list queries; undefined unless the actor holds
   * every product document of the partition (its cache is complete).
   */
  catalog(): PartitionCatalog | undefined {
    const state = this.state;
    if (this.status !== 'running' || !state?.cache.complete) return undefined;
    return { writtenUpTo: state.writtenUpTo, loadedAt: state.loadedAt };
  }

  /** Lets the state go, and with it its documents and versions in the list index. */
  private dropState(): void {
    for (const state of [this.state, this.retained]) {
      state?.cache.release();
      state?.versions.release();
    }
    this.state = undefined;
    this.retained = undefined;
    this.deps.metrics.cacheFilling.set(this.labels, 0);
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.mailbox.then(task);
    this.mailbox = run.catch(() => {});
    return run;
  }

  private async process(payload: EachBatchPayload, fetchedAt: number): Promise<void> {
    const { batch } = payload;
    if (this.status === 'stopped' || this.status === 'paused') return;
    this.highWatermark = Number(batch.highWatermark);
    this.commitTo = async (offset) => {
      await payload.commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: this.partition, offset: String(offset) }] }],
      });
    };
    for (let start = 0; start < batch.messages.length; ) {
      if (!payload.isRunning() || payload.isStale()) return;
      const messages = batch.messages.slice(start, start + this.chunkLimit);
      start += messages.length;
      const records = messages.map((message) => this.decode(message));
      const lastOffset = await this.applyChunk(records, payload);
      if (lastOffset === null) return;
      this.observeAge(records, fetchedAt);
      if (this.bisectUntil !== null && lastOffset >= this.bisectUntil) {
        this.log.info({ offset: lastOffset }, 'past the refused chunk; chunks are whole again');
        this.bisectUntil = null;
        this.chunkLimit = this.options.batchSize;
      }
      payload.resolveOffset(String(lastOffset));
      this.appliedOffset = lastOffset + 1;
      this.deps.metrics.lag.set(this.labels, Math.max(0, this.highWatermark - this.appliedOffset));
      this.commitApplied(false);
      await payload.heartbeat();
    }
  }

  /** How old the chunk's events were when sent to Kafka, fetched and written; a rebuild's events are history. */
  private observeAge(records: DecodedRecord[], fetchedAt: number): void {
    if (this.options.runtime !== 'live') return;
    const { eventAge } = this.deps.metrics;
    const writtenAt = Date.now();
    for (const record of records) {
      if (record.kind !== 'event') continue;
      const occurredAt = Date.parse(record.envelope.occurredAt);
      eventAge.observe({ stage: 'published' }, Math.max(0, Number(record.message.timestamp) - occurredAt) / 1000);
      eventAge.observe({ stage: 'fetched' }, Math.max(0, fetchedAt - occurredAt) / 1000);
      eventAge.observe({ stage: 'written' }, Math.max(0, writtenAt - occurredAt) / 1000);
    }
  }

  /**
   * Commits the applied offset in the background, at most one commit in flight, and without `force` at
   * most every COMMIT_INTERVAL_MS. A failed commit (a rebalance under way) is retried by the next call;
   * the new owner replays from the last commit that landed.
   */
  private commitApplied(force: boolean): void {
    const offset = this.appliedOffset;
    const commitTo = this.commitTo;
    if (offset === null || !commitTo || this.commitInFlight || offset === this.committedOffset) return;
    if (!force && Date.now() - this.lastCommitAt < COMMIT_INTERVAL_MS) return;
    this.lastCommitAt = Date.now();
    this.commitInFlight = commitTo(offset)
      .then(
        () => {
          this.committedOffset = Math.max(this.committedOffset ?? 0, offset);
        },
        (error: unknown) => this.log.warn({ err: error, offset }, 'offset commit failed; the next one carries it'),
      )
      .finally(() => {
        this.commitInFlight = null;
      });
  }

  /** A record bisection found MongoDB refuses on its own is poison, whatever it holds. */
  private decode(message: EachBatchPayload['batch']['messages'][number]): DecodedRecord {
    const offset = Number(message.offset);
    if (this.unwritable?.offset !== offset) return decodeRecord(message);
    return { kind: 'poison', offset, message, reason: 'unwritable', detail: this.unwritable.detail };
  }

  /** Plans and writes one chunk; the offset to commit, or null when the partition was paused instead. */
  private async applyChunk(records: DecodedRecord[], payload: EachBatchPayload): Promise<number | null> {
    const { store, deadLetters, hub } = this.deps;
    const started = process.hrtime.bigint();
    try {
      const state = this.state ?? (await this.load());
      const lookup = await this.lookupFor(state, records);
      const validFrom = new Date(Math.max(Date.now(), state.writtenUpTo + 1, state.shard.watermark.getTime() + 1));
      const plan = planChunk({
        partition: this.partition,
        shard: { ...state.shard, watermark: new Date(state.writtenUpTo) },
        parked: state.parked,
        lookup,
        records,
        validFrom,
        keepVersions: this.options.keepVersions,
        now: new Date(),
      });
      await deadLetters.send(this.options.topic, this.partition, this.options.groupId, plan.deadLetters);
      await store.writeChunk(plan);

      state.shard = plan.shard;
      state.parked = plan.parked;
      state.writtenUpTo = validFrom.getTime();
      for (const doc of plan.products) state.cache.set(doc);
      state.versions.add(plan.versionInserts);
      for (const doc of plan.products) hub.notify(doc.id, doc.version);
      this.recordMetrics(plan, state, started);
      this.failures = 0;
      this.refusals = null;
      if (this.unwritable !== null && plan.lastOffset >= this.unwritable.offset) this.unwritable = null;
      return plan.lastOffset;
    } catch (error) {
      if (error instanceof FencedWrite) this.deps.metrics.fencedWrites.inc({ runtime: this.options.runtime });
      else if (isWriteRefused(error)) this.refused(records, error as Error);
      this.pause(error, payload);
      return null;
    }
  }

  /**
   * MongoDB refused a chunk (a constraint, a value it cannot store): retrying it whole would stall the
   * partition for ever. After a few refusals in a row the chunk is split in halves, and so on down to
   * the one record that MongoDB refuses on its own, which goes to the dead-letter topic with the
   * reason; the records around it are applied.
   */
  private refused(records: DecodedRecord[], error: Error): void {
    const first = records[0];
    const last = records.at(-1);
    if (!first || !last) return;
    const count = this.refusals?.offset === first.offset ? this.refusals.count + 1 : 1;
    this.refusals = { offset: first.offset, count };
    if (count < REFUSALS_BEFORE_SPLIT) return;
    this.refusals = null;
    if (records.length > 1) {
      this.chunkLimit = Math.ceil(records.length / 2);
      this.bisectUntil = Math.max(this.bisectUntil ?? last.offset, last.offset);
      this.log.warn({ from: first.offset, to: last.offset, chunk: this.chunkLimit }, 'chunk refused; bisecting it');
    } else {
      this.unwritable = { offset: first.offset, detail: `MongoDB refused the write: ${error.message}` };
      this.log.error({ offset: first.offset, err: error }, 'record refused on its own; dead-lettering it');
    }
  }

  /** The stored document of every product in the chunk, read from MongoDB only for what the cache lacks. */
  private async lookupFor(state: LoadedState, records: DecodedRecord[]): Promise<(id: string) => ProductDoc | null> {
    const known = new Map<string, ProductDoc | null>();
    const unknown: string[] = [];
    for (const record of records) {
      if (record.kind !== 'event' || known.has(record.envelope.aggregateId)) continue;
      const id = record.envelope.aggregateId;
      const cached = state.cache.get(id);
      if (cached === undefined) unknown.push(id);
      known.set(id, cached ?? null);
    }
    for (const doc of await this.deps.store.loadProducts(this.partition, unknown)) {
      known.set(doc._id, doc);
      state.cache.set(doc);
    }
    return (id) => known.get(id) ?? null;
  }

  private async load(): Promise<LoadedState> {
    if (this.suspended) throw new Error('the consumer is waiting for its next assignment');
    const kept = await this.reclaim();
    if (kept) return kept;
    const { store } = this.deps;
    const seed = store.takeSeed(this.partition, this.options.cacheSize);
    const snapshot = seed ?? { ...(await store.loadPartitionState(this.partition)), products: [], complete: false };
    const cache = new ProductCache(this.options.cacheSize, snapshot.complete, this.deps.index.current);
    for (const doc of snapshot.products) cache.set(doc);
    const shard = snapshot.shard ?? emptyShard(this.partition);
    const parked = groupParked(snapshot.parked);
    try {
      await this.dropStaleParked(parked, cache);
    } catch (error) {
      cache.release();
      throw error;
    }
    if (this.lastPrunedBucket === null) {
      const cutoff = Date.now() - this.options.versionTtlMs;
      this.lastPrunedBucket = pruneBucketOf(cutoff) - 1;
      this.pruneMissedVersions(new Date(cutoff));
    }
    // A version superseded before now ends at the validFrom of a loaded document at the latest, even
    // one written by another process whose clock runs ahead of this one's.
    let loadedAt = Math.max(Date.now(), shard.watermark.getTime() + 1);
    for (const doc of snapshot.products) loadedAt = Math.max(loadedAt, doc.validFrom.getTime() + 1);
    const state: LoadedState = {
      shard,
      parked,
      cache,
      writtenUpTo: shard.watermark.getTime(),
      versions: new SupersededVersions(this.deps.index.superseded),
      loadedAt,
    };
    this.state = state;
    this.status = 'running';
    this.deps.metrics.stateLoads.inc({ runtime: this.options.runtime, outcome: 'loaded' });
    this.reportParked(parked);
    if (!seed) this.fillCache(state);
    return state;
  }

  /**
   * Reads the partition's documents into the cache while the actor already applies records: read
   * before the first chunk, a partition of 22,000 products held its records back 3 s on FerretDB, and
   * twelve of them at once, after a restart or a rebalance, half a minute, while every read that
   * waited for its write waited as long. Until the cache is filled, a chunk looks up the products it
   * does not hold by id, and lists are read from MongoDB (`catalog` vouches only for a complete cache).
   *
   * Documents the actor wrote or looked up meanwhile are newer than the scan's copies and are kept. If
   * the cache evicted any meanwhile, one the actor wrote may be among them, and the scan's copy of it
   * could be older: the fill is dropped and the cache stays incomplete. A failed read is tried again
   * while the state lasts.
   */
  private fillCache(state: LoadedState): void {
    const evictions = state.cache.evictions;
    // A state kept across a rebalance is still filled: `reclaim` serves it again only if nobody wrote
    // the partition meanwhile, and then the scan's copies are still MongoDB's.
    const current = () => (this.state === state && this.status === 'running') || this.retained === state;
    const filling = this.deps.metrics.cacheFilling;
    filling.set(this.labels, 1);
    this.deps.store
      .loadPartitionProducts(this.partition, this.options.cacheSize)
      .then(
        ({ products, complete }) =>
          this.exclusive(async () => {
            if (current()) filling.set(this.labels, 0);
            if (!current() || state.cache.evictions !== evictions) return;
            for (const doc of products) {
              if (state.cache.peek(doc._id)) continue;
              state.cache.set(doc);
              state.loadedAt = Math.max(state.loadedAt, doc.validFrom.getTime() + 1);
            }
            state.cache.complete = complete && state.cache.evictions === evictions;
          }),
        (error: unknown) => {
          if (!current()) return;
          this.log.warn({ err: error }, "reading the partition's products into the cache failed; trying again");
          setTimeout(() => {
            if (current()) this.fillCache(state);
          }, CACHE_FILL_RETRY_MS).unref();
        },
      )
      // The cache stays incomplete, which costs lookups, not correctness.
      .catch((error: unknown) => this.log.error({ err: error }, 'filling the cache failed'));
  }

  /**
   * Expires the versions of the buckets that ended while no actor ran this partition; later buckets
   * are pruned as they end (see `idle`). FerretDB decodes the partition's versions for it (1.4 s at
   * 100,000 versions), so it runs beside the actor rather than before its first chunk. Expired versions
   * are never read (a list reads only buckets since its snapshot): one left behind by a failure is
   * garbage until the next start, not a wrong answer.
   */
  private pruneMissedVersions(cutoff: Date): void {
    this.deps.store
      .pruneVersionsBefore(this.partition, cutoff)
      .catch((error: unknown) => this.log.warn({ err: error }, 'expiring versions missed while stopped failed'));
  }

  /**
   * The state kept across a rebalance (see `keepAcrossRebalance`), if the partition's shard is still
   * the one this actor wrote last: nobody else wrote the partition meanwhile, so its documents are
   * still MongoDB's. Otherwise, or when the shard cannot be read, the state goes and `load` reads.
   */
  private async reclaim(): Promise<LoadedState | undefined> {
    const retained = this.retained;
    if (!retained) return undefined;
    let stored: StatsShard | null;
    try {
      stored = await this.deps.store.readShard(this.partition);
    } catch (error) {
      this.dropState();
      throw error;
    }
    if (!stored || !unchangedSince(stored, retained.shard)) {
      this.log.info('the partition was written by another member since this one held it; reloading');
      this.dropState();
      return undefined;
    }
    this.retained = undefined;
    this.state = retained;
    this.status = 'running';
    this.deps.metrics.stateLoads.inc({ runtime: this.options.runtime, outcome: 'kept' });
    this.reportParked(retained.parked);
    return retained;
  }

  /** Parked events applied by an attempt that crashed before deleting them. */
  private async dropStaleParked(parked: Map<string, ParkedEventDoc[]>, cache: ProductCache): Promise<void> {
    const stale: string[] = [];
    const ids = [...parked.keys()];
    const unknown = ids.filter((id) => cache.get(id) === undefined);
    const loaded = new Map((await this.deps.store.loadProducts(this.partition, unknown)).map((doc) => [doc._id, doc]));
    for (const id of ids) {
      const version = (loaded.get(id) ?? cache.get(id))?.version ?? 0;
      const waiting = (parked.get(id) ?? []).filter((p) => (p.version <= version ? !stale.push(p._id) : true));
      if (waiting.length === 0) parked.delete(id);
      else parked.set(id, waiting);
    }
    await this.deps.store.deleteParked(this.partition, stale);
  }

  /** Between batches: advance the watermark so list snapshots move on, and expire old versions. */
  private async idle(): Promise<void> {
    if (this.suspended) return;
    // Load without waiting for records: a partition with nothing new must still advance its watermark.
    if (this.status === 'starting') await this.load();
    const state = this.state;
    if (this.status !== 'running' || !state) return;
    this.commitApplied(true);
    this.reportParked(state.parked);
    const now = Date.now();
    if (now - state.writtenUpTo >= this.options.watermarkIntervalMs) {
      const shard = { ...state.shard, watermark: new Date(now), updatedAt: new Date(now) };
      await this.deps.store.writeShard(shard);
      state.shard = shard;
      state.writtenUpTo = now;
    }
    const cutoff = now - this.options.versionTtlMs;
    state.versions.expireBefore(cutoff);
    const expired = pruneBucketOf(cutoff) - 1;
    if (this.lastPrunedBucket !== null && expired > this.lastPrunedBucket) {
      const buckets: number[] = [];
      for (let bucket = this.lastPrunedBucket + 1; bucket <= expired; bucket++) buckets.push(bucket);
      await this.deps.store.pruneVersions(this.partition, buckets);
      this.lastPrunedBucket = expired;
    }
  }

  private reportParked(parked: Map<string, ParkedEventDoc[]>): void {
    const now = Date.now();
    const summary = summarizeParked(parked, now, this.options.staleGapMs);
    const { metrics } = this.deps;
    metrics.parked.set(this.labels, summary.count);
    metrics.staleGaps.set(this.labels, summary.stale);
    metrics.oldestParkedAge.set(
      this.labels,
      summary.oldestParkedAt ? (now - summary.oldestParkedAt.getTime()) / 1000 : 0,
    );
    if (summary.stale > 0 && summary.stale !== this.staleReported) {
      this.log.warn({ ...summary }, 'parked events are waiting longer than the stale-gap bound');
    }
    this.staleReported = summary.stale;
  }

  private pause(error: unknown, payload: EachBatchPayload): void {
    this.dropState();
    this.failures += 1;
    this.status = 'paused';
    this.pausedReason = (error as Error).message ?? String(error);
    this.resume = payload.pause();
    this.deps.metrics.paused.set(this.labels, 1);
    this.deps.metrics.writeFailures.inc({ runtime: this.options.runtime });
    const quick = error instanceof FencedWrite || isWriteRefused(error);
    const delay = quick ? QUICK_RETRY_MS : Math.min(250 * 2 ** (this.failures - 1), 10_000);
    const expected = isMongoUnavailable(error) || error instanceof FencedWrite;
    const log = expected ? this.log.warn.bind(this.log) : this.log.error.bind(this.log);
    log({ err: error, retryInMs: delay }, 'chunk not written; partition paused, nothing committed');
    this.retryTimer = setTimeout(() => this.exclusive(() => this.tryResume()), delay);
  }

  /** Reloads the partition's state from MongoDB; success means MongoDB is back, so fetching resumes. */
  private async tryResume(): Promise<void> {
    if (this.status !== 'paused') return;
    try {
      await this.load();
    } catch (error) {
      this.failures += 1;
      const delay = Math.min(250 * 2 ** (this.failures - 1), 10_000);
      this.log.warn({ err: error, retryInMs: delay }, 'still cannot load the partition state');
      this.retryTimer = setTimeout(() => this.exclusive(() => this.tryResume()), delay);
      return;
    }
    this.pausedReason = null;
    this.deps.metrics.paused.set(this.labels, 0);
    this.log.info('partition resumed');
    this.resume?.();
    this.resume = undefined;
  }

  private recordMetrics(plan: ReturnType<typeof planChunk>, state: LoadedState, started: bigint): void {
    const { metrics } = this.deps;
    const runtime = this.options.runtime;
    const { applied, duplicates, parked, unparked, deadLettered } = plan.counts;
    if (applied - unparked > 0) metrics.events.inc({ runtime, outcome: 'applied' }, applied - unparked);
    if (duplicates > 0) metrics.events.inc({ runtime, outcome: 'duplicate' }, duplicates);
    if (parked > 0) {
      metrics.events.inc({ runtime, outcome: 'parked' }, parked);
      metrics.gaps.inc({ runtime }, parked);
      this.log.warn({ parked }, 'events arrived ahead of a missing version; parked until it arrives');
    }
    if (unparked > 0) metrics.events.inc({ runtime, outcome: 'unparked' }, unparked);
    if (deadLettered > 0) metrics.events.inc({ runtime, outcome: 'dead_lettered' }, deadLettered);
    for (const letter of plan.deadLetters) {
      metrics.deadLetters.inc({ runtime, reason: letter.reason });
      this.log.warn(
        { offset: letter.offset, reason: letter.reason, detail: letter.detail },
        'poison record dead-lettered',
      );
    }
    this.reportParked(state.parked);
    if (state.shard.lastEventAt) metrics.lastEvent.set(this.labels, state.shard.lastEventAt.getTime() / 1000);
    metrics.chunkDuration.observe({ runtime }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

import type { Kafka } from 'kafkajs';
import type { Bulkhead } from '../infra/bulkhead.ts';
import type { Logger } from '../infra/logger.ts';
import type { Db } from '../infra/mongo.ts';
import type { DeadLetterSink } from './dead-letters.ts';
import { consumerGroupOf, type GenerationPointer, type GenerationWatcher } from './generations.ts';
import type { ProjectionMetrics } from './metrics.ts';
import type { ActorProgress } from './partition-actor.ts';
import { partitionerFor } from './partitioning.ts';
import type { ProgressHub } from './progress-hub.ts';
import { type PartitionBehind, partitionsBehind } from './read-switch.ts';
import { ProjectionRuntime } from './runtime.ts';
import { ensureShards, ensureViewCollections, type PartitionSnapshot, ViewStore } from './view-store.ts';
import type { MemoryCatalog } from './views/products/memory-list.ts';
import type { ProductDoc } from './views/products/view.ts';

export interface ProjectionSettings {
  topic: string;
  baseGroup: string;
  partitions: number;
  batchSize: number;
  cacheSize: number;
  versionTtlMs: number;
  watermarkIntervalMs: number;
  sessionTimeoutMs: number;
  staleGapMs: number;
}

export interface ProjectionDeps {
  kafka: Kafka;
  db: Db;
  gate: Bulkhead;
  deadLetters: DeadLetterSink;
  metrics: ProjectionMetrics;
  logger: Logger;
}

/**
 * A rebuild's catch-up (the topic from the handover offsets, see rebuild.ts) is the only member of its
 * group, so a long session costs no failover time. Its actors start from the documents the rebuild
 * holds in memory and apply the tail of the topic with the live chunk size. (On the local stack under
 * load, actors that loaded their whole partition back from FerretDB and applied 5,000-record chunks
 * of single-document replaces saw every commit fail with UNKNOWN_MEMBER_ID and rejoined without end.)
 */
const CATCH_UP_MIN_SESSION_TIMEOUT_MS = 120_000;

/** Builds the runtime that projects the topic into one generation's collections. */
export async function runtimeFor(
  generation: number,
  mode: 'live' | 'rebuild',
  settings: ProjectionSettings,
  deps: ProjectionDeps & { hub: ProgressHub },
  onFatal: (error: Error) => void,
  /** Partitions whose documents are known without reading MongoDB (see `ViewStore`). */
  seeds?: Map<number, PartitionSnapshot>,
): Promise<ProjectionRuntime> {
  const views = await ensureViewCollections(deps.db, generation);
  await ensureShards(views, settings.partitions);
  const groupId = consumerGroupOf(settings.baseGroup, generation);
  return new ProjectionRuntime(
    deps.kafka,
    {
      runtime: mode,
      topic: settings.topic,
      groupId,
      batchSize: settings.batchSize,
      maxBytesPerPartition: undefined,
      cacheSize: settings.cacheSize,
      keepVersions: mode === 'live',
      versionTtlMs: settings.versionTtlMs,
      watermarkIntervalMs: settings.watermarkIntervalMs,
      staleGapMs: settings.staleGapMs,
      sessionTimeoutMs:
        mode === 'rebuild'
          ? Math.max(settings.sessionTimeoutMs, CATCH_UP_MIN_SESSION_TIMEOUT_MS)
          : settings.sessionTimeoutMs,
    },
    {
      store: new ViewStore(views, deps.gate, seeds),
      deadLetters: deps.deadLetters,
      hub: deps.hub,
      metrics: deps.metrics,
      logger: deps.logger,
    },
    onFatal,
  );
}

/** How long reads stay on the replaced views while the new generation catches up with them. */
const READ_SWITCH_MAX_WAIT_MS = 60_000;
const READ_SWITCH_POLL_MS = 200;

/**
 * The projection of the current generation. When a rebuild switches the pointer, this process leaves
 * the old generation's group and joins the new one, which continues from where the rebuild stopped.
 * Reads follow (`serving`) only once the new views hold everything the old ones showed: the rebuild
 * caught up with the topic before it switched the pointer, but the old generation's projection kept
 * applying events until each process saw the switch, and a read moved over at once answered, under
 * load, versions older than the one before it.
 */
export class LiveProjections {
  private runtime: ProjectionRuntime | undefined;
  private switching: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Readiness should not drop on every replica at once while they follow a rebuild's switch. */
  private joinedOnce = false;
  /** The generation this process projects. */
  generation: number;
  /** The generations reads use: the pointer's, once the projection of its current one caught up. */
  serving: GenerationPointer;
  /** The topic partition of a product id, as the relay's partitioner chooses it. */
  private readonly partitionOf: (productId: string) => number;

  constructor(
    private readonly settings: ProjectionSettings,
    private readonly deps: ProjectionDeps & { hub: ProgressHub; watcher: GenerationWatcher },
    private readonly onFatal: (error: Error) => void,
  ) {
    this.serving = deps.watcher.pointer;
    this.generation = this.serving.current;
    this.partitionOf = partitionerFor(settings.partitions);
    deps.watcher.onChange((pointer) => {
      this.switching = this.switching.then(() => this.switchTo(pointer)).catch(onFatal);
    });
  }

  async start(): Promise<void> {
    this.runtime = await runtimeFor(this.generation, 'live', this.settings, this.deps, this.onFatal);
    await this.runtime.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.switching;
    await this.runtime?.stop();
    this.runtime = undefined;
  }

  get groupId(): string {
    return consumerGroupOf(this.settings.baseGroup, this.generation);
  }

  get joined(): boolean {
    this.joinedOnce ||= this.runtime?.joined ?? false;
    return this.joinedOnce;
  }

  /** A product of `generation` as this process's projection holds it, if it projects the id's partition (see `ProjectionRuntime.cachedProduct`). */
  cachedProduct(id: string, generation: number): ProductDoc | null | undefined {
    return generation === this.generation ? this.runtime?.cachedProduct(id, this.partitionOf(id)) : undefined;
  }

  /** The whole catalog of `generation` in memory, when this process projects every partition of it. */
  catalog(generation: number): MemoryCatalog | undefined {
    if (generation !== this.generation) return undefined;
    const catalog = this.runtime?.catalog();
    return catalog?.partitions.length === this.settings.partitions ? catalog : undefined;
  }

  progress(): ActorProgress[] {
    return this.runtime?.progress() ?? [];
  }

  private async switchTo(pointer: GenerationPointer): Promise<void> {
    const from = this.generation;
    if (pointer.current === from || !this.runtime) {
      this.serving = pointer;
      return;
    }
    this.deps.logger.info({ from, to: pointer.current }, 'views switched generation; following');
    // Stopped first: the old views stop moving in this process, so the new ones can overtake them.
    await this.runtime.stop();
    this.generation = pointer.current;
    this.runtime = await runtimeFor(pointer.current, 'live', this.settings, this.deps, this.onFatal);
    await this.runtime.start();
    await this.caughtUpWith(from);
    this.serving = pointer;
    this.deps.logger.info({ from, to: pointer.current }, 'reads switched generation');
  }

  /**
   * Waits, within a bound, until the generation projected now has fully written what `from` applied.
   * A failed comparison (MongoDB or Kafka unreachable for a moment) is retried: it must not end the
   * process, and reads stay on the old views meanwhile.
   */
  private async caughtUpWith(from: number): Promise<void> {
    const admin = this.deps.kafka.admin();
    const group = consumerGroupOf(this.settings.baseGroup, this.generation);
    const deadline = Date.now() + READ_SWITCH_MAX_WAIT_MS;
    let behind: PartitionBehind[] | undefined;
    try {
      while (!this.stopped) {
        try {
          await admin.connect();
          behind = await partitionsBehind(admin, this.deps.db, this.settings.topic, from, group);
          if (behind.length === 0) return;
        } catch (error) {
          this.deps.logger.warn({ err: error, from, to: this.generation }, 'cannot compare the generations yet');
        }
        if (Date.now() > deadline) {
          this.deps.logger.warn(
            { from, to: this.generation, behind },
            'the new views have not caught up with the old ones; reads switch anyway, and may see older versions for a moment',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, READ_SWITCH_POLL_MS));
      }
    } finally {
      await admin.disconnect();
    }
  }
}

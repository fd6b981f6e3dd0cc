import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import type { Logger } from '../infra/logger.ts';
import type { Db } from '../infra/mongo.ts';
import { isOnlyDuplicateKeys } from '../infra/mongo.ts';
import {
  consumerGroupOf,
  dropGeneration,
  GENERATIONS,
  generationsOnDisk,
  readPointer,
  switchPointer,
} from './generations.ts';
import { type ProjectionDeps, type ProjectionSettings, runtimeFor } from './live-projections.ts';
import { ProgressHub } from './progress-hub.ts';

export interface RebuildProgress {
  generation: number;
  phase: 'catching-up' | 'switching' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** Records consumed so far, and per second since the start. */
  consumed: number;
  eventsPerSecond: number;
  partitions: { partition: number; offset: number; target: number }[];
  error: string | null;
}

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

export interface RebuildHandle {
  generation: number;
  /** Settles when the rebuild has switched the views, or failed. */
  finished: Promise<RebuildProgress>;
}

/**
 * Replays the topic from its start into the next generation's collections while the current
 * generation keeps answering reads, then points reads and the live projection at it. The live
 * processes take over the new generation's consumer group at the offsets the rebuild committed, so
 * nothing published meanwhile is missed. Resolves once the rebuild holds the lock and has begun.
 */
export async function beginRebuild(
  settings: ProjectionSettings,
  deps: ProjectionDeps & { admin: Admin },
  onProgress: (progress: RebuildProgress) => void,
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
    logger.info({ generation, from: pointer.current }, 'rebuild started');
    const finished = catchUpAndSwitch(generation, settings, deps, onProgress).finally(release);
    return { generation, finished };
  } catch (error) {
    await release();
    throw error;
  }
}

async function catchUpAndSwitch(
  generation: number,
  settings: ProjectionSettings,
  deps: ProjectionDeps & { admin: Admin },
  onProgress: (progress: RebuildProgress) => void,
): Promise<RebuildProgress> {
  const { db, admin, logger } = deps;
  const started = Date.now();
  let progress: RebuildProgress | undefined;
  try {
    let fatal: Error | undefined;
    const runtime = await runtimeFor(generation, 'rebuild', settings, { ...deps, hub: new ProgressHub() }, (error) => {
      fatal = error;
    });
    // Committed offsets as the actors last reported them; they outlive the runtime for the final report.
    const offsets = new Map<number, number>();
    const report = (phase: RebuildProgress['phase'], targets: Map<number, number>): RebuildProgress => {
      for (const p of runtime.progress()) if (p.committedOffset !== null) offsets.set(p.partition, p.committedOffset);
      const partitions = [...targets].map(([partition, target]) => ({
        partition,
        offset: offsets.get(partition) ?? 0,
        target,
      }));
      const consumed = partitions.reduce((sum, p) => sum + p.offset, 0);
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      progress = {
        generation,
        phase,
        startedAt: new Date(started).toISOString(),
        finishedAt: phase === 'done' ? new Date().toISOString() : null,
        consumed,
        eventsPerSecond: Math.round(consumed / seconds),
        partitions,
        error: null,
      };
      onProgress(progress);
      return progress;
    };

    await runtime.start();
    try {
      // Catch up to the end as of the start, then to the end as of then: what remains after that is
      // little, and the live processes continue from the committed offsets once they follow the pointer.
      for (let round = 0; round < 2; round++) {
        const targets = await endOffsets(admin, settings.topic);
        for (;;) {
          if (fatal) throw fatal;
          const current = report('catching-up', targets);
          if (current.partitions.every((p) => p.offset >= p.target)) break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } finally {
      await runtime.stop();
    }
    report('switching', await endOffsets(admin, settings.topic));
    await switchPointer(db, generation);
    logger.info({ generation, seconds: (Date.now() - started) / 1000 }, 'rebuild done; views switched');
    return report('done', await endOffsets(admin, settings.topic));
  } catch (error) {
    if (progress) onProgress({ ...progress, phase: 'failed', error: (error as Error).message });
    throw error;
  }
}

/** Where each partition ends; 0 for one whose records are all gone, which has nothing to replay. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.low) >= Number(o.high) ? 0 : Number(o.high)]));
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

import { workerData } from 'node:worker_threads';
import { postgresEventStore } from '../infra/event-store/event-store.ts';
import { uuidv7 } from '../infra/ids.ts';
import { createLogger } from '../infra/logger.ts';
import { createSql, isDatabaseUnavailable, isPgError } from '../infra/postgres.ts';
import { ActorRegistry } from './actor-registry.ts';
import { GroupCommitter } from './group-commit.ts';
import { loadProduct } from './load-product.ts';
import type { CommandTask, TaskResult } from './protocol.ts';

/**
 * A piscina worker thread hosting the actors of the product ids routed to it. It owns its own
 * PostgreSQL connections and group committer, so the HTTP thread never touches the event store
 * on the write path.
 */

export interface WorkerSettings {
  databaseUrl: string;
  logLevel: string;
  maxBatch: number;
  commitConcurrency: number;
  maxQueued: number;
  maxMailbox: number;
  maxLive: number;
  idleMs: number;
  conflictRetries: number;
  snapshotEvery: number;
}

const settings = workerData as WorkerSettings;
const logger = createLogger('command-worker', settings.logLevel);
// The committer's transactions get connections of their own: an actor load waiting for a
// connection never delays a commit, and a commit never waits behind a load.
const commitSql = createSql(settings.databaseUrl, {
  max: settings.commitConcurrency,
  logger,
  applicationName: 'cqrs-catalog-worker-commit',
});
const readSql = createSql(settings.databaseUrl, { max: 4, logger, applicationName: 'cqrs-catalog-worker' });
const commitStore = postgresEventStore(commitSql);
const readStore = postgresEventStore(readSql);
const committer = new GroupCommitter((requests) => commitStore.appendBatch(requests), {
  maxBatch: settings.maxBatch,
  concurrency: settings.commitConcurrency,
  maxQueued: settings.maxQueued,
  // A statement the server refused is rolled back and may be split, and so is one that lost a
  // deadlock (halves take fewer locks); a timeout, a lost connection or a full server is not the
  // batch's fault, and halves would only wait the same way again.
  rolledBack: (error) =>
    isPgError(error) && (error.code === '40P01' || error.code === '40001' || !isDatabaseUnavailable(error)),
});
const registry = new ActorRegistry(
  {
    committer,
    load: (id) => loadProduct(readStore, id),
    streamVersion: (id) => readStore.streamVersion(id),
    now: () => new Date(),
    newEventId: () => uuidv7(),
    maxBatch: settings.maxBatch,
    maxMailbox: settings.maxMailbox,
    conflictRetries: settings.conflictRetries,
    snapshotEvery: settings.snapshotEvery,
    reportStoreError: (error, productId, correlationIds) =>
      logger.error({ err: error, productId, correlationIds }, 'the event store failed a command'),
  },
  settings.maxLive,
  settings.idleMs,
);

/** One piscina task carries every command the HTTP thread dispatched to this worker in one turn. */
export default function handleCommands({ tasks }: { tasks: CommandTask[] }): Promise<TaskResult[]> {
  return Promise.all(tasks.map((task) => registry.get(task.productId).tell(task)));
}

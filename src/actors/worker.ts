import { workerData } from 'node:worker_threads';
import { postgresEventStore } from '../infra/event-store/event-store.ts';
import { uuidv7 } from '../infra/ids.ts';
import { createLogger } from '../infra/logger.ts';
import { createSql } from '../infra/postgres.ts';
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
  maxLive: number;
  idleMs: number;
  conflictRetries: number;
  snapshotEvery: number;
}

const settings = workerData as WorkerSettings;
const logger = createLogger('command-worker', settings.logLevel);
const sql = createSql(settings.databaseUrl, { max: 4, logger, applicationName: 'cqrs-catalog-worker' });
const store = postgresEventStore(sql);
const committer = new GroupCommitter((requests) => store.appendBatch(requests), settings.maxBatch);
const registry = new ActorRegistry(
  {
    committer,
    load: (id) => loadProduct(store, id),
    streamVersion: (id) => store.streamVersion(id),
    now: () => new Date(),
    newEventId: () => uuidv7(),
    maxBatch: settings.maxBatch,
    conflictRetries: settings.conflictRetries,
    snapshotEvery: settings.snapshotEvery,
  },
  settings.maxLive,
  settings.idleMs,
);

export default function handleCommand(task: CommandTask): Promise<TaskResult> {
  return registry.get(task.productId).tell(task);
}

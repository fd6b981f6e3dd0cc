// First, so that a SIGTERM during start-up ends the process (see the module).
import './infra/start-up-signals.ts';
import { ActorSystem, ActorSystemOverloaded } from './actors/actor-system.ts';
import type { CommandTask, TaskResult } from './actors/protocol.ts';
import { commandApp } from './http/command/app.ts';
import { NotReady } from './http/health.ts';
import { close, listen, onShutdown } from './http/serve.ts';
import { ConfigError, commandSettings, loadConfig, loadDatabaseTimeouts, splitList } from './infra/config.ts';
import { OUTBOX_CHANNEL } from './infra/event-store/append.ts';
import { purgeIdempotencyKeys } from './infra/event-store/idempotency.ts';
import { migrate } from './infra/event-store/migrations.ts';
import { readStream } from './infra/event-store/read.ts';
import { createKafka } from './infra/kafka.ts';
import { createLogger } from './infra/logger.ts';
import { Counter, createRegistry, Gauge, Histogram } from './infra/metrics.ts';
import { OutboxRelay } from './infra/outbox/relay.ts';
import { RelayWakeup } from './infra/outbox/wakeup.ts';
import { createSql } from './infra/postgres.ts';

/**
 * The command service: HTTP writes -> product actors on worker threads -> PostgreSQL event store,
 * and the outbox relay that publishes committed events to Kafka.
 */

function loadSettings() {
  try {
    const config = loadConfig(commandSettings);
    if (splitList(config.COMMAND_API_TOKENS).length === 0) {
      throw new ConfigError(['COMMAND_API_TOKENS="": at least one token is required (the local stack generates one)']);
    }
    loadDatabaseTimeouts(config);
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`command service: ${error.message}\n`);
    process.exit(2);
  }
}

const config = loadSettings();
const logger = createLogger('command-service', config.LOG_LEVEL);
const registry = createRegistry('command-service');
const sql = createSql(config.DATABASE_URL, {
  max: config.DATABASE_POOL_SIZE,
  logger,
  applicationName: 'cqrs-catalog-command',
  statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
});

const commands = new Counter({
  name: 'commands_total',
  help: 'Commands by kind and outcome',
  labelNames: ['kind', 'outcome'],
  registers: [registry],
});
const batchSizes = new Histogram({
  name: 'command_group_commit_size',
  help: 'Commands sharing one event store transaction',
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
  registers: [registry],
});
const actorsLive = new Gauge({
  name: 'actors_live',
  help: 'Live product actors per worker',
  labelNames: ['worker'],
  registers: [registry],
});
const handoffSizes = new Histogram({
  name: 'command_handoff_size',
  help: 'Commands handed to a worker thread in one message (one event-loop turn)',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  registers: [registry],
});
const outboxBacklog = new Gauge({
  name: 'outbox_backlog',
  help: 'Events committed but not yet on Kafka',
  registers: [registry],
});
const published = new Counter({
  name: 'outbox_published_total',
  help: 'Events published to Kafka by this relay',
  registers: [registry],
});
const relayLeader = new Gauge({
  name: 'outbox_relay_leader',
  help: '1 while this process is the relay leader',
  registers: [registry],
});

const actors = new ActorSystem(
  config.WORKER_THREADS,
  {
    databaseUrl: config.DATABASE_URL,
    logLevel: config.LOG_LEVEL,
    maxBatch: config.GROUP_COMMIT_MAX_BATCH,
    commitConcurrency: config.GROUP_COMMIT_CONCURRENCY,
    maxQueued: config.GROUP_COMMIT_MAX_QUEUED,
    maxMailbox: config.ACTOR_MAX_MAILBOX,
    maxLive: config.ACTOR_MAX_LIVE,
    idleMs: config.ACTOR_IDLE_MS,
    conflictRetries: config.CONFLICT_RETRIES,
    snapshotEvery: config.SNAPSHOT_EVERY,
  },
  config.COMMANDS_MAX_IN_FLIGHT,
  (commands) => handoffSizes.observe(commands),
);

/**
 * Load shedding answers 503 before the command reaches a worker. A worker that died mid-command
 * leaves the outcome unknown: 503, and the client retries with its key.
 */
async function dispatch(task: CommandTask): Promise<TaskResult> {
  try {
    return await actors.dispatch(task);
  } catch (error) {
    const overloaded = error instanceof ActorSystemOverloaded;
    if (!overloaded) logger.error({ err: error, productId: task.productId }, 'worker failed while handling a command');
    return {
      outcome: overloaded
        ? { ok: false, code: 'overloaded', detail: `${error.message}; retry later` }
        : {
            ok: false,
            code: 'unavailable',
            detail: 'the worker handling this product failed; retry with the same Idempotency-Key',
          },
      appended: false,
      batchSize: 0,
      liveActors: 0,
      workerId: -1,
    };
  }
}

let migrated = false;
async function migrateWhenReachable(): Promise<void> {
  for (let delay = 500; !migrated; delay = Math.min(delay * 2, 10_000)) {
    try {
      await migrate(sql);
      migrated = true;
      logger.info('event store schema is up to date');
    } catch (error) {
      logger.warn({ err: error, retryInMs: delay }, 'cannot migrate the event store yet');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

const relay = new OutboxRelay({
  sql,
  kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'cqrs-catalog-outbox', logger }),
  topic: config.KAFKA_TOPIC,
  batchSize: config.OUTBOX_BATCH_SIZE,
  pollMs: config.OUTBOX_POLL_MS,
  lingerMs: config.OUTBOX_LINGER_MS,
  logger: logger.child({ component: 'outbox-relay' }),
  onPublished: (count) => published.inc(count),
  onBacklog: (rows) => outboxBacklog.set(rows),
});

const wakeup = new RelayWakeup(
  relay,
  async () => {
    await sql.notify(OUTBOX_CHANNEL, '');
  },
  20,
  (error) => logger.warn({ err: error }, 'could not notify the outbox relay leader; it will poll'),
);

const app = commandApp({
  tokens: splitList(config.COMMAND_API_TOKENS),
  logger,
  registry,
  readiness: {
    postgres: async () => {
      if (!migrated) throw new NotReady('schema not migrated yet');
      await sql`select 1`;
    },
  },
  dispatch,
  readEvents: (id) => readStream(sql, id),
  onResult: (kind, result) => {
    if (result.appended) wakeup.committed();
    commands.inc({ kind, outcome: result.outcome.ok ? 'ok' : result.outcome.code });
    if (result.batchSize > 0) batchSizes.observe(result.batchSize);
    if (result.workerId >= 0) actorsLive.set({ worker: String(result.workerId) }, result.liveActors);
  },
});

const server = await listen(
  app,
  { host: config.HOST, port: config.COMMAND_PORT, keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS },
  logger,
);
await migrateWhenReachable();
relay.start();
const leaderWatch = setInterval(() => relayLeader.set(relay.leader ? 1 : 0), 1000);
leaderWatch.unref();

/** The relay's leader also expires idempotency records, a bounded chunk at a time. */
async function purgeExpiredKeys(): Promise<void> {
  if (!relay.leader) return;
  let purged = 0;
  for (let chunk = 5000; chunk === 5000; purged += chunk) {
    chunk = await purgeIdempotencyKeys(sql, config.IDEMPOTENCY_TTL_HOURS, 5000);
  }
  if (purged > 0) logger.info({ purged, ttlHours: config.IDEMPOTENCY_TTL_HOURS }, 'expired idempotency keys purged');
}
const purger = setInterval(
  () => void purgeExpiredKeys().catch((error) => logger.warn({ err: error }, 'idempotency key purge failed')),
  60_000,
);
purger.unref();

onShutdown(logger, async () => {
  clearInterval(purger);
  await close(server);
  await relay.stop();
  await actors.close();
  await sql.end({ timeout: 5 });
});

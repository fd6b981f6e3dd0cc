// First, so that a SIGTERM during start-up ends the process (see the module).
import './infra/start-up-signals.ts';
import { NotReady } from './http/health.ts';
import { createQueryApp } from './http/query/app.ts';
import { OperationsFeed } from './http/query/operations-feed.ts';
import { close, listen, onShutdown } from './http/serve.ts';
import { Bulkhead } from './infra/bulkhead.ts';
import { loadConfig, querySettings, splitList } from './infra/config.ts';
import { createKafka, createProducer, sendWhole } from './infra/kafka.ts';
import { createLogger } from './infra/logger.ts';
import { Counter, createRegistry } from './infra/metrics.ts';
import { createMongo, pingMongo, viewsDb } from './infra/mongo.ts';
import { MongoWatchdog } from './infra/mongo-watchdog.ts';
import { createSql } from './infra/postgres.ts';
import { DeadLetterSink } from './projections/dead-letters.ts';
import { GenerationWatcher } from './projections/generations.ts';
import { LiveProjections, type ProjectionSettings } from './projections/live-projections.ts';
import { createProjectionMetrics } from './projections/metrics.ts';
import { DeadLetterTail } from './projections/operations/dead-letter-tail.ts';
import { OperationsMonitor } from './projections/operations/monitor.ts';
import { Redriver } from './projections/operations/redrive.ts';
import { ProgressHub } from './projections/progress-hub.ts';
import { RebuildJob } from './projections/rebuild-job.ts';
import { projectionsStatus } from './projections/status.ts';
import { ensureTopics, topicOptionsFrom } from './projections/topics.ts';
import { ViewReader } from './projections/view-reader.ts';

/** Polling interval of the views generation pointer (FerretDB has no change streams). */
const GENERATION_POLL_MS = 1_000;
/** How often an idle partition actor advances its list-snapshot watermark. */
const WATERMARK_INTERVAL_MS = 1_000;
/** Re-read interval of a read-your-writes wait when no local announcement comes. */
const FALLBACK_POLL_MS = 250;
/** A rebuild reads the event store a page at a time; no page should take nearly this long. */
const REBUILD_STATEMENT_TIMEOUT_MS = 120_000;
/**
 * The MongoDB client's watchdog (see `MongoWatchdog`): a reconnect once MongoDB has answered fresh
 * clients for twice the driver's heartbeat while this client still knew no server.
 */
const MONGO_WATCHDOG = { intervalMs: 2_000, graceMs: 20_000, probeTimeoutMs: 3_000 };
/** The operations console: what its charts span, how often it samples, what it keeps of the dead letters. */
const CONSOLE = {
  windowMs: 5 * 60_000,
  watchedIntervalMs: 1_000,
  idleIntervalMs: 5_000,
  retryMs: 2_000,
  maxStreams: 500,
  maxQueuedBytes: 256 * 1024,
  lettersShown: 50,
  lettersPerPartition: 50,
};

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new NotReady(`${what} did not answer in ${ms} ms`)), ms)),
  ]);

async function main(): Promise<void> {
  const config = loadConfig(querySettings);
  const logger = createLogger('query-service', config.LOG_LEVEL);
  const registry = createRegistry('query-service');
  const metrics = createProjectionMetrics(registry);

  const mongo = createMongo(config.MONGO_URL, {
    logger,
    appName: 'query-service',
    maxPoolSize: config.MONGO_POOL_SIZE,
  });
  await mongo.connect();
  const mongoReconnects = new Counter({
    name: 'mongodb_client_reconnects_total',
    help: 'Times the MongoDB client was closed and connected again because it knew no server while MongoDB answered',
    registers: [registry],
  });
  const watchdog = new MongoWatchdog(mongo, config.MONGO_URL, MONGO_WATCHDOG, {
    logger,
    onReconnect: () => mongoReconnects.inc(),
  });
  watchdog.start();
  const db = viewsDb(mongo);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'query-service', logger });
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await ensureTopics(admin, topicOptionsFrom(config), logger);
  const producer = createProducer(kafka);
  await producer.connect();

  const fatal = (error: Error) => {
    logger.fatal({ err: error }, 'projection cannot continue; exiting so that the process is restarted');
    process.exit(1);
  };
  const watcher = await GenerationWatcher.start(db, GENERATION_POLL_MS, (error) =>
    logger.warn({ err: error }, 'reading the views generation failed; retrying'),
  );
  const hub = new ProgressHub();
  const settings: ProjectionSettings = {
    topic: config.KAFKA_TOPIC,
    baseGroup: config.KAFKA_CONSUMER_GROUP,
    partitions,
    batchSize: config.PROJECTION_BATCH_SIZE,
    cacheSize: config.PROJECTION_CACHE_SIZE,
    versionTtlMs: config.LIST_CURSOR_TTL_SECONDS * 1000,
    watermarkIntervalMs: WATERMARK_INTERVAL_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    staleGapMs: config.PROJECTION_STALE_GAP_SECONDS * 1000,
  };
  const projectionDeps = {
    kafka,
    db,
    gate: new Bulkhead('mongodb writes', config.MONGO_MAX_WRITES),
    deadLetters: new DeadLetterSink(producer, config.KAFKA_DEAD_LETTER_TOPIC),
    metrics,
    logger,
  };
  // The event store, read only by rebuilds (connections open on first use: serving never needs it).
  const eventStore = createSql(config.DATABASE_URL, {
    max: 2,
    logger,
    applicationName: 'query-service-rebuild',
    statementTimeoutMs: REBUILD_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: REBUILD_STATEMENT_TIMEOUT_MS,
  });
  const live = new LiveProjections(settings, { ...projectionDeps, hub, watcher }, fatal);
  const reader = new ViewReader(db, live, {
    versionTtlMs: settings.versionTtlMs,
    memory: live,
    onRead: (kind, source) => metrics.viewReads.inc({ kind, source }),
    listBulkhead: new Bulkhead('list queries', config.LIST_QUERIES_MAX, 4 * config.LIST_QUERIES_MAX),
    listTimeLimitMs: config.LIST_QUERY_TIMEOUT_MS,
    readBulkhead: new Bulkhead('reads by id', config.MONGO_READS_MAX, 16 * config.MONGO_READS_MAX),
  });

  const projections = async () => {
    const generation = reader.pointer.current;
    return projectionsStatus({
      admin,
      topic: config.KAFKA_TOPIC,
      groupId: live.groupId,
      generation,
      shards: await reader.shards(generation),
      local: live.progress(),
    });
  };
  const rebuild = new RebuildJob(settings, { ...projectionDeps, admin, sql: eventStore });
  const deadLetters = new DeadLetterTail(
    kafka,
    admin,
    {
      topic: config.KAFKA_DEAD_LETTER_TOPIC,
      perPartition: CONSOLE.lettersPerPartition,
      groupPrefix: `${config.KAFKA_CONSUMER_GROUP}.dead-letter-reader`,
    },
    logger,
  );
  const redriver = new Redriver({
    publish: (record) => sendWhole(producer, record),
    topic: config.KAFKA_TOPIC,
    tail: deadLetters,
    redrives: metrics.redrives,
    logger,
  });
  const monitor = new OperationsMonitor(
    { status: projections, local: () => live.progress(), rebuild: () => rebuild.progress, startedAt: new Date() },
    CONSOLE.windowMs,
  );
  const feed = new OperationsFeed({ monitor, deadLetters, registry, logger }, CONSOLE);

  const app = createQueryApp({
    logger,
    registry,
    products: { reader, hub, cursorTtlMs: settings.versionTtlMs, fallbackPollMs: FALLBACK_POLL_MS },
    catalog: { reader, projections },
    console: { feed },
    health: {
      registry,
      checks: {
        mongodb: () => pingMongo(mongo),
        kafka: () => withTimeout(admin.describeCluster(), 2_000, 'kafka').then(() => undefined),
        projection: async () => {
          if (!live.joined) throw new NotReady('has not joined its consumer group yet');
        },
      },
    },
    admin: { tokens: splitList(config.ADMIN_API_TOKENS), rebuild, deadLetters: { deadLetters, redriver } },
  });
  const server = await listen(
    app,
    { host: config.HOST, port: config.QUERY_PORT, keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    logger,
  );
  await live.start();
  feed.start();

  onShutdown(logger, async () => {
    // Open console streams would hold the server open: end them first (browsers reconnect).
    feed.stop();
    await close(server);
    // Each consumer's leave waits for its fetch in flight: leave both groups at once.
    await Promise.all([deadLetters.stop(), live.stop()]);
    watcher.stop();
    await producer.disconnect();
    await admin.disconnect();
    await watchdog.stop();
    await mongo.close();
    await eventStore.end();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { Bulkhead } from '../src/infra/bulkhead.ts';
import { loadConfig, querySettings } from '../src/infra/config.ts';
import { createKafka, createProducer } from '../src/infra/kafka.ts';
import { createLogger } from '../src/infra/logger.ts';
import { createRegistry } from '../src/infra/metrics.ts';
import { createMongo, viewsDb } from '../src/infra/mongo.ts';
import { createSql } from '../src/infra/postgres.ts';
import { DeadLetterSink } from '../src/projections/dead-letters.ts';
import { createProjectionMetrics } from '../src/projections/metrics.ts';
import { beginRebuild, progressLine } from '../src/projections/rebuild.ts';
import { ensureTopics, topicOptionsFrom } from '../src/projections/topics.ts';

/**
 * `npm run rebuild`: rebuilds every view from the event store (DATABASE_URL) into a new generation,
 * hands over to the topic from the offsets recorded before the read, then switches reads and the
 * running query services to it. Reads keep using the current views meanwhile. Prints a progress line
 * a second (events read per second, % of the log, products written, ETA of the phase) and, last,
 * the events, products and rate from the start to the switch.
 */

const WATERMARK_INTERVAL_MS = 1_000;
const PRINT_INTERVAL_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 120_000;

async function main(): Promise<number> {
  const config = loadConfig(querySettings);
  const logger = createLogger('rebuild', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const mongo = createMongo(config.MONGO_URL, { logger, appName: 'rebuild', maxPoolSize: config.MONGO_POOL_SIZE });
  const sql = createSql(config.DATABASE_URL, {
    max: 2,
    logger,
    applicationName: 'rebuild',
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: STATEMENT_TIMEOUT_MS,
  });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'rebuild', logger });
  const admin = kafka.admin();
  const producer = createProducer(kafka);
  await Promise.all([mongo.connect(), admin.connect(), producer.connect()]);
  try {
    const partitions = await ensureTopics(admin, topicOptionsFrom(config), logger);
    let printed = 0;
    let lastPhase = '';
    const handle = await beginRebuild(
      {
        topic: config.KAFKA_TOPIC,
        baseGroup: config.KAFKA_CONSUMER_GROUP,
        partitions,
        batchSize: config.PROJECTION_BATCH_SIZE,
        cacheSize: config.PROJECTION_CACHE_SIZE,
        versionTtlMs: config.LIST_CURSOR_TTL_SECONDS * 1000,
        watermarkIntervalMs: WATERMARK_INTERVAL_MS,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        staleGapMs: config.PROJECTION_STALE_GAP_SECONDS * 1000,
      },
      {
        kafka,
        admin,
        sql,
        db: viewsDb(mongo),
        gate: new Bulkhead('mongodb writes', config.MONGO_MAX_WRITES),
        deadLetters: new DeadLetterSink(producer, config.KAFKA_DEAD_LETTER_TOPIC),
        metrics: createProjectionMetrics(createRegistry('rebuild')),
        logger,
      },
      (progress) => {
        // Every phase change, then at most once a second; the last line (done or failed) comes from below.
        if (progress.phase === 'done' || progress.phase === 'failed') return;
        if (progress.phase === lastPhase && Date.now() - printed < PRINT_INTERVAL_MS) return;
        printed = Date.now();
        lastPhase = progress.phase;
        console.log(progressLine(progress));
      },
    );
    const done = await handle.finished;
    console.log(progressLine(done));
    return 0;
  } finally {
    await producer.disconnect();
    await admin.disconnect();
    await mongo.close();
    await sql.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('rebuild failed; the current views stay in use:', error);
    process.exit(1);
  },
);

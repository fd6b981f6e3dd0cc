import { Bulkhead } from '../src/infra/bulkhead.ts';
import { loadConfig, querySettings } from '../src/infra/config.ts';
import { createKafka, createProducer } from '../src/infra/kafka.ts';
import { createLogger } from '../src/infra/logger.ts';
import { createRegistry } from '../src/infra/metrics.ts';
import { createMongo, viewsDb } from '../src/infra/mongo.ts';
import { DeadLetterSink } from '../src/projections/dead-letters.ts';
import { createProjectionMetrics } from '../src/projections/metrics.ts';
import { beginRebuild, type RebuildProgress } from '../src/projections/rebuild.ts';
import { ensureTopics } from '../src/projections/topics.ts';

/**
 * `npm run rebuild`: replays the topic from its start into a new generation of every view, then
 * switches reads and the running query services to it. Reads keep using the current views meanwhile.
 */

const WATERMARK_INTERVAL_MS = 1_000;

function line(progress: RebuildProgress): string {
  const target = progress.partitions.reduce((sum, p) => sum + p.target, 0);
  const percent = target === 0 ? 100 : Math.floor((100 * progress.consumed) / target);
  return `rebuild g${progress.generation}: ${progress.phase} ${progress.consumed}/${target} records (${percent}%), ${progress.eventsPerSecond} events/s`;
}

async function main(): Promise<number> {
  const config = loadConfig(querySettings);
  const logger = createLogger('rebuild', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const mongo = createMongo(config.MONGO_URL, { logger, appName: 'rebuild', maxPoolSize: config.MONGO_POOL_SIZE });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'rebuild', logger });
  const admin = kafka.admin();
  const producer = createProducer(kafka);
  await Promise.all([mongo.connect(), admin.connect(), producer.connect()]);
  try {
    const partitions = await ensureTopics(admin, {
      topic: config.KAFKA_TOPIC,
      deadLetterTopic: config.KAFKA_DEAD_LETTER_TOPIC,
      partitions: config.KAFKA_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    });
    let printed = 0;
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
      },
      {
        kafka,
        admin,
        db: viewsDb(mongo),
        gate: new Bulkhead('mongodb writes', config.MONGO_MAX_WRITES),
        deadLetters: new DeadLetterSink(producer, config.KAFKA_DEAD_LETTER_TOPIC),
        metrics: createProjectionMetrics(createRegistry('rebuild')),
        logger,
      },
      (progress) => {
        if (progress.phase !== 'catching-up' || Date.now() - printed >= 1000) {
          printed = Date.now();
          console.log(line(progress));
        }
      },
    );
    const done = await handle.finished;
    console.log(`rebuild g${done.generation}: views switched after ${done.consumed} records`);
    return 0;
  } finally {
    await producer.disconnect();
    await admin.disconnect();
    await mongo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('rebuild failed; the current views stay in use:', error);
    process.exit(1);
  },
);

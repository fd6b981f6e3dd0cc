import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';
import postgres from 'postgres';
import { balanceLeaders } from '../../scripts/stack/kafka.ts';
import { testData, urls } from '../../scripts/stack/paths.ts';

/**
 * Connections to the local stack that `npm test` started, for integration tests. They reach the
 * tests' own data, which `npm test` sets in the environment (`testEnv`) and empties at the start of
 * each run; run on their own, tests fall back to the same names, never to the stack's `catalog`
 * database or `product-events` topic.
 */

export const databaseUrl = process.env.DATABASE_URL ?? urls.testDatabase;
export const mongoUrl = process.env.MONGO_URL ?? urls.testMongo;
export const brokers = (process.env.KAFKA_BROKERS ?? urls.brokers).split(',');
/** The topic the command services the tests start publish to. */
export const eventTopic = process.env.KAFKA_TOPIC ?? testData.topic;

export const sqlClient = () => postgres(databaseUrl, { max: 4, onnotice: () => {} });
export const mongoClient = () => new MongoClient(mongoUrl);
export const kafkaClient = (clientId: string) =>
  new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200 } });
export const defaultPartitioner = Partitioners.DefaultPartitioner;

export const uniqueName = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 250, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * After a test restarted brokers: every partition of the tests' event topic and of the group
 * offsets (where the group coordinators live) led by its preferred broker again. Left to Kafka's own
 * check, which runs every 300 s, the coordinators would move minutes later under whichever test runs
 * then, and a member whose batches outlast its session timeout while its coordinator moves loses
 * the session (the likely cause of one failure of slow-mongo.test.ts in CI). Not right before a
 * test that counts a consumer group's deliveries: the election itself moves coordinators, and
 * kafka.test.ts once counted 1,070 of 1,000 messages when it ran straight after one.
 */
export async function restorePreferredLeaders(): Promise<void> {
  await eventually(() => balanceLeaders([eventTopic, '__consumer_offsets']), {
    timeoutMs: 120_000,
    intervalMs: 2_000,
    what: 'every partition led by its preferred broker again',
  });
}

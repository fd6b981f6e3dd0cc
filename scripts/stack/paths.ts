import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where the local stack keeps its state (data, logs, PIDs) and its downloads, and which ports it uses. */

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Per checkout: data and logs belong to this clone. */
export const stateDir = resolve(process.env.STACK_DIR ?? join(repoRoot, '.stack'));

/** Per machine: downloads and builds are shared by every clone, so a fresh clone does not fetch them again. */
export const cacheDir = resolve(
  process.env.STACK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cqrs-catalog'),
);

const portFrom = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}=${JSON.stringify(raw)}: expected a port number`);
  }
  return value;
};

const countFrom = (name: string, fallback: number, allowed: number[]): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!allowed.includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')}`);
  return value;
};

export const ports = {
  postgres: portFrom('STACK_POSTGRES_PORT', 54329),
  mongo: portFrom('STACK_MONGO_PORT', 27017),
  ferretdbDebug: portFrom('STACK_FERRETDB_DEBUG_PORT', 27018),
  /** Broker i listens on kafka + i, its controller on kafka + 100 + i. */
  kafka: portFrom('STACK_KAFKA_PORT', 19092),
  command: portFrom('COMMAND_PORT', 8080),
  query: portFrom('QUERY_PORT', 8081),
};

export const kafkaNodes = countFrom('KAFKA_NODES', 3, [1, 3]);
export const kafkaVersion = '4.1.0';
export const ferretdbVersion = 'v1.24.2';

/**
 * What `npm test` uses instead of the stack's data: a PostgreSQL database, a MongoDB database and
 * an event topic (with its dead-letter topic) of its own, on the same servers. The services that
 * `npm run up` runs keep `catalog` and `product-events` to themselves.
 */
export const testData = {
  database: 'catalog_test',
  mongoDatabase: 'catalog_test',
  topic: 'catalog-test-events',
  deadLetterTopic: 'catalog-test-events.dlq',
};

export const urls = {
  database: `postgres://catalog:catalog@127.0.0.1:${ports.postgres}/catalog`,
  testDatabase: `postgres://catalog:catalog@127.0.0.1:${ports.postgres}/${testData.database}`,
  ferretdbBackend: `postgres://catalog:catalog@127.0.0.1:${ports.postgres}/ferretdb`,
  mongo: `mongodb://127.0.0.1:${ports.mongo}/catalog`,
  testMongo: `mongodb://127.0.0.1:${ports.mongo}/${testData.mongoDatabase}`,
  brokers: Array.from({ length: kafkaNodes }, (_, i) => `127.0.0.1:${ports.kafka + i}`).join(','),
  command: `http://127.0.0.1:${ports.command}`,
  query: `http://127.0.0.1:${ports.query}`,
};

export const logFile = (component: string): string => join(stateDir, 'logs', `${component}.log`);
export const pidFile = (component: string): string => join(stateDir, 'run', `${component}.pid`);
export const tokenFile = join(stateDir, 'api-token');
export const adminTokenFile = join(stateDir, 'admin-token');

/** The environment `npm test` gives the test processes on top of the stack's (`serviceEnv`). */
export const testEnv = (): Record<string, string> => ({
  DATABASE_URL: urls.testDatabase,
  MONGO_URL: urls.testMongo,
  KAFKA_TOPIC: testData.topic,
  KAFKA_DEAD_LETTER_TOPIC: testData.deadLetterTopic,
});

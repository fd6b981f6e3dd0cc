import { availableParallelism } from 'node:os';
import {
  coerce,
  enums,
  integer,
  max,
  min,
  nonempty,
  pattern,
  refine,
  type Struct,
  string,
  validate,
} from 'superstruct';

/**
 * Every setting of both services, read from environment variables and validated at start-up.
 * The defaults run against the local stack (`npm run up`); `kube/` sets each variable explicitly.
 */

const int = (lo: number, hi: number) =>
  coerce(max(min(integer(), lo), hi), pattern(string(), /^-?\d+$/), (raw) => Number(raw));

const port = int(1, 65535);

const url = (...schemes: string[]) =>
  refine(nonempty(string()), 'url', (value) => {
    try {
      const { protocol } = new URL(value);
      return schemes.includes(protocol.replace(/:$/, '')) || `expected a ${schemes.join(' or ')} URL`;
    } catch {
      return 'expected a URL';
    }
  });

const brokers = refine(
  nonempty(string()),
  'brokers',
  (value) => value.split(',').every((b) => /^[^\s:,]+:\d{1,5}$/.test(b.trim())) || 'expected host:port[,host:port...]',
);

const tokens = refine(
  string(),
  'tokens',
  (value) => splitList(value).every((t) => t.length >= 16) || 'each token needs at least 16 characters',
);

interface Setting<T> {
  struct: Struct<T, unknown>;
  fallback: string;
  help: string;
}

const setting = <T>(struct: Struct<T, unknown>, fallback: string, help: string): Setting<T> => ({
  struct: struct as Struct<T, unknown>,
  fallback,
  help,
});

const shared = {
  HOST: setting(nonempty(string()), '127.0.0.1', 'address the HTTP server binds to'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: setting(
    int(1000, 600_000),
    '75000',
    'how long an idle keep-alive connection stays open; longer than any proxy in front keeps its own',
  ),
  LOG_LEVEL: setting(enums(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info', 'pino log level'),
  KAFKA_BROKERS: setting(brokers, '127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094', 'Kafka bootstrap brokers'),
  KAFKA_TOPIC: setting(nonempty(string()), 'product-events', 'topic the domain events are published to'),
  KAFKA_PARTITIONS: setting(int(1, 1000), '12', 'partition count used when the topic is created'),
  KAFKA_REPLICATION_FACTOR: setting(int(1, 5), '3', 'replication factor used when the topic is created'),
  DATABASE_URL: setting(
    url('postgres', 'postgresql'),
    'postgres://catalog:catalog@127.0.0.1:54329/catalog',
    'PostgreSQL event store',
  ),
};

/**
 * Every PostgreSQL connection starts with these (see `createSql`): a statement running longer, or
 * waiting longer for a lock, fails (503, retry later) instead of holding a connection and its
 * caller forever. See `loadDatabaseTimeouts` for the rule between the two.
 */
export const databaseTimeoutSettings = {
  DATABASE_STATEMENT_TIMEOUT_MS: setting(
    int(100, 3_600_000),
    '15000',
    'statement_timeout of every PostgreSQL statement (ms); a statement running longer is cancelled',
  ),
  DATABASE_LOCK_TIMEOUT_MS: setting(
    int(10, 3_600_000),
    '5000',
    'lock_timeout of every PostgreSQL statement (ms), at most DATABASE_STATEMENT_TIMEOUT_MS',
  ),
};

export const commandSettings = {
  ...shared,
  ...databaseTimeoutSettings,
  COMMAND_PORT: setting(port, '8080', 'command service HTTP port'),
  COMMAND_API_TOKENS: setting(tokens, '', 'comma-separated bearer tokens accepted on /products routes'),
  // One core stays with the HTTP thread. On the 2-core local stack a single worker used 10-30 % less
  // CPU per write than two, with the same throughput at 64 connections (README, "Results"): two
  // workers only took turns on the one core the HTTP thread leaves.
  WORKER_THREADS: setting(
    int(1, 64),
    String(Math.max(1, availableParallelism() - 1)),
    'piscina worker threads hosting product actors; default: one per core beyond the HTTP thread',
  ),
  ACTOR_MAX_LIVE: setting(
    int(1, 10_000_000),
    '20000',
    'live actors per worker before the least recently used is passivated',
  ),
  ACTOR_IDLE_MS: setting(int(1000, 86_400_000), '300000', 'an actor idle this long is passivated'),
  GROUP_COMMIT_MAX_BATCH: setting(int(1, 10_000), '500', 'most commands appended in one transaction'),
  GROUP_COMMIT_CONCURRENCY: setting(
    int(1, 32),
    '2',
    'group-commit transactions in flight per worker, each on a connection of its own',
  ),
  GROUP_COMMIT_MAX_QUEUED: setting(
    int(1, 1_000_000),
    '4000',
    'commands waiting for a group commit per worker before new ones answer 503',
  ),
  COMMANDS_MAX_IN_FLIGHT: setting(
    int(1, 1_000_000),
    '10000',
    'commands in flight in one process (all workers) before new ones answer 503',
  ),
  ACTOR_MAX_MAILBOX: setting(int(1, 1_000_000), '1000', 'commands waiting for one product before new ones answer 503'),
  CONFLICT_RETRIES: setting(int(0, 100), '3', 'reloads after a version conflict before answering 409'),
  SNAPSHOT_EVERY: setting(int(1, 1_000_000), '100', 'a snapshot of a product is stored every this many events'),
  DATABASE_POOL_SIZE: setting(int(1, 100), '10', 'PostgreSQL connections per process'),
  OUTBOX_BATCH_SIZE: setting(int(1, 10_000), '500', 'events the relay publishes per round'),
  OUTBOX_POLL_MS: setting(int(10, 60_000), '1000', 'relay polling fallback when no NOTIFY arrives'),
  OUTBOX_LINGER_MS: setting(
    int(0, 1000),
    '50',
    'once caught up, the relay waits this long for more events, so each Kafka send carries more',
  ),
  IDEMPOTENCY_TTL_HOURS: setting(
    int(1, 24 * 365),
    '24',
    'how long an Idempotency-Key is remembered; older records are purged in the background',
  ),
};

export const querySettings = {
  ...shared,
  QUERY_PORT: setting(port, '8081', 'query service HTTP port'),
  MONGO_URL: setting(url('mongodb', 'mongodb+srv'), 'mongodb://127.0.0.1:27017/catalog', 'MongoDB views'),
  KAFKA_DEAD_LETTER_TOPIC: setting(nonempty(string()), 'product-events.dlq', 'topic for poison events'),
  KAFKA_CONSUMER_GROUP: setting(nonempty(string()), 'catalog-projections', 'consumer group of the projections'),
  PROJECTION_BATCH_SIZE: setting(int(1, 10_000), '500', 'most events applied in one bulk write'),
  ADMIN_API_TOKENS: setting(tokens, '', 'comma-separated bearer tokens for the admin routes (rebuild)'),
  PROJECTION_CACHE_SIZE: setting(int(1, 10_000_000), '20000', 'product documents each partition actor caches'),
  KAFKA_SESSION_TIMEOUT_MS: setting(int(6000, 300_000), '10000', "how soon a dead member's partitions move"),
  MONGO_MAX_WRITES: setting(int(1, 20), '6', 'MongoDB writes and lookups in flight per process'),
  MONGO_POOL_SIZE: setting(int(1, 100), '16', 'MongoDB connections per process'),
  PROJECTION_STALE_GAP_SECONDS: setting(
    int(1, 86_400),
    '60',
    'a parked event (a gap in a product stream) older than this is reported as stale in /projections and metrics',
  ),
  LIST_CURSOR_TTL_SECONDS: setting(int(10, 86_400), '600', 'list cursor lifetime (superseded versions kept)'),
  LIST_QUERIES_MAX: setting(
    int(1, 100),
    '2',
    'list queries sent to MongoDB at once; 4 times as many wait, more get 503 (FerretDB decodes whole collections)',
  ),
  MONGO_READS_MAX: setting(
    int(1, 100),
    '8',
    'reads by id (products, price history) sent to MongoDB at once; 16 times as many wait, more get 503',
  ),
  LIST_QUERY_TIMEOUT_MS: setting(int(100, 600_000), '5000', 'maxTimeMS of a list query sent to MongoDB'),
};

// biome-ignore lint/suspicious/noExplicitAny: a table of settings of different value types
type Settings = Record<string, Setting<any>>;
export type Config<S extends Settings> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates every variable of `settings` at once, so that one start-up names every mistake. */
export function loadConfig<S extends Settings>(settings: S, env: NodeJS.ProcessEnv = process.env): Config<S> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, { struct, fallback }] of Object.entries(settings)) {
    const raw = env[name] ?? fallback;
    const [error, value] = validate(raw, struct, { coerce: true });
    if (error) problems.push(`${name}=${JSON.stringify(raw)}: ${error.message}`);
    else values[name] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as Config<S>;
}

/**
 * The database timeouts of `config` (or of the environment), checked against each other: a
 * lock_timeout longer than statement_timeout would never fire.
 */
export function loadDatabaseTimeouts(
  config: Config<typeof databaseTimeoutSettings> = loadConfig(databaseTimeoutSettings),
): { statementMs: number; lockMs: number } {
  const { DATABASE_STATEMENT_TIMEOUT_MS: statementMs, DATABASE_LOCK_TIMEOUT_MS: lockMs } = config;
  if (lockMs > statementMs) {
    throw new ConfigError([
      `DATABASE_LOCK_TIMEOUT_MS=${lockMs}: must not exceed DATABASE_STATEMENT_TIMEOUT_MS=${statementMs}`,
    ]);
  }
  return { statementMs, lockMs };
}

export const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export type CommandConfig = Config<typeof commandSettings>;
export type QueryConfig = Config<typeof querySettings>;

import { type Socket, connect as tcpConnect } from 'node:net';
import postgres from 'postgres';
import { loadDatabaseTimeouts } from './config.ts';
import type { Logger } from './logger.ts';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
export type ReservedSql = postgres.ReservedSql;
export { postgres };

export interface SqlOptions {
  max: number;
  logger: Logger;
  applicationName: string;
  /**
   * `statement_timeout` of every statement on these connections (DATABASE_STATEMENT_TIMEOUT_MS when
   * not given, read and validated the way the services read their configuration).
   */
  statementTimeoutMs?: number;
  /** `lock_timeout` of every statement on these connections (DATABASE_LOCK_TIMEOUT_MS when not given). */
  lockTimeoutMs?: number;
}

/**
 * The one `sql` instance of a process (or of a worker thread). Query text and parameters stay out of
 * logs. Every connection starts with `statement_timeout` and `lock_timeout` set, so no statement
 * can hang on a lock or run away. A parameter of the same name in the URL overrides them.
 *
 * Connection loss. postgres.js 3.4.9 (the latest release) writes to a connection's socket after
 * that connection has closed when the connection is pinned, that is a `sql.reserve()`d connection
 * or the connection of a `sql.begin()` transaction: the write is deferred to a `setImmediate`,
 * finds the socket gone and throws a TypeError no caller can catch (`nextWrite` in
 * `src/connection.js`; porsager/postgres#1208, #1199, #1154). The process dies. It takes a
 * terminated backend, a failover or a server restart, and one more statement on the pinned
 * connection: the outbox relay's leader lock check, a `release()`, the ROLLBACK postgres.js sends
 * itself when a transaction callback throws. Pooled queries are not affected: the pool only hands
 * out connections that are open. No release fixes it yet, so the `sql` returned here replaces the
 * two pinned-connection APIs with versions that never touch a closed connection:
 * - `reserve()` opens a session of its own (`openSession`): one connection that is never opened
 *   again once it closes; every later statement on it fails with CONNECTION_CLOSED, and
 *   `release()` closes it.
 * - `begin()` runs the callback with a guarded transaction (`guardedBegin`): once its connection
 *   is lost, statements fail with CONNECTION_CLOSED instead of being written, and postgres.js is not
 *   given the callback's outcome, so it never sends COMMIT or ROLLBACK to the dead connection;
 *   `begin()` rejects with the connection's own CONNECTION_CLOSED as it closes (the server rolled
 *   the transaction back).
 * Do not take a connection out of the pool any other way (e.g. an unwrapped postgres instance).
 *
 * Connection reset. When a connected socket fails (ECONNRESET: a crashed server, a failover, a
 * network cut), Node emits 'error' at once and 'close' a loop turn or more later. postgres.js
 * rejects the statements in flight on 'error' but keeps the connection in its pool until 'close',
 * and the statements it sends there meanwhile are never settled: its close handler skips them
 * after an error (the outbox relay's delete and its leader lock's release hung forever that way).
 * Here postgres.js sees that 'close' as a plain close (`closeWithoutError`), which rejects them,
 * and a session stops sending on the 'error' itself. (Not with TLS: postgres.js wraps the socket
 * in one of its own, out of reach. DATABASE_URL needs no TLS on the cluster network and locally.)
 *
 * Connection start. With `fetch_types` (needed for array parameters and columns) postgres.js reads
 * the array types as the first statement of every new connection and drops that promise: a
 * connection lost during it (a restart, a terminated backend, a reset) is an unhandled rejection
 * that ends the process (porsager/postgres#1192, #1205, #1223). The types are the same for every
 * connection, so each `sql` here reads them on its first connection only (`connectSocket` turns
 * `fetch_types` off once they are known; a session copies them from its pool): the window is
 * the first connection of a process or worker, not every reconnect.
 *
 * Unreachable database. postgres.js queues a statement that finds no open connection until a
 * connection attempt succeeds, and spaces the attempts out up to 20 s: under load, requests hung
 * for 15-30 s before failing while PostgreSQL was down. Here a failed connection attempt marks the
 * database unreachable (`Reachability`): statements then fail at once with DATABASE_UNREACHABLE
 * (a connection error: 503), except one probe per half second, until an attempt connects again;
 * and attempts are at most about a second apart, so the service notices soon that it is back.
 */
export function createSql(url: string, options: SqlOptions): Sql {
  const timeouts = resolveTimeouts(options);
  const common: Partial<postgres.Options<Record<string, postgres.PostgresType>>> = {
    connection: {
      application_name: options.applicationName,
      statement_timeout: timeouts.statementMs,
      lock_timeout: timeouts.lockMs,
    },
    onnotice: (notice) => options.logger.debug({ notice: notice.message }, 'postgres notice'),
    // Event and view documents are built by the application; JSON columns pass through as values.
    transform: { undefined: null },
    connect_timeout: 5,
    // Seconds before a connection that failed is tried again: postgres.js's default grows to 20 s.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** retries, 1),
  };
  const reachability = new Reachability();
  const sql = postgres(url, {
    ...common,
    max: options.max,
    idle_timeout: 60,
    socket: connectSocket(reachability),
  } as Partial<postgres.Options<Record<string, postgres.PostgresType>>>);
  const begin = guardedBegin(sql.begin, undefined, reachability);
  const reserve = async (): Promise<ReservedSql> => {
    if (reachability.failFast()) throw unreachable();
    return openSession(url, common, reachability, sql.options);
  };
  const unsafe = (...args: unknown[]) =>
    reachability.failFast() ? failedQuery(unreachable) : (sql.unsafe as (...a: unknown[]) => unknown)(...args);
  Object.assign(sql, { begin, reserve });
  return new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      if (isTemplate(args[0]) && reachability.failFast()) return failedQuery(unreachable);
      return Reflect.apply(target, thisArg, args);
    },
    get(target, property, receiver) {
      return property === 'unsafe' ? unsafe : Reflect.get(target, property, receiver);
    },
  });
}

/** How often a statement is let through to try the database while it is unreachable. */
const PROBE_INTERVAL_MS = 500;

/**
 * Whether the last connection attempts of one `sql` reached PostgreSQL. Connection attempts, not
 * statements, are watched (each connection's socket reports), so the hot path pays one check.
 */
class Reachability {
  private unreachable = false;
  private lastProbe = 0;

  connected(): void {
    this.unreachable = false;
  }

  failed(): void {
    this.unreachable = true;
  }

  /** True when a statement should fail without trying; false for the periodic probe. */
  failFast(): boolean {
    if (!this.unreachable) return false;
    const now = Date.now();
    if (now - this.lastProbe < PROBE_INTERVAL_MS) return true;
    this.lastProbe = now;
    return false;
  }
}

const unreachable = (): Error =>
  Object.assign(new Error('PostgreSQL is unreachable: the last connection attempts failed'), {
    code: 'DATABASE_UNREACHABLE',
  });

/**
 * postgres.js's `socket` option: the TCP (or Unix socket) connection of one attempt, made the way
 * postgres.js makes it for a single host, reporting to `reachability` whether it connected.
 * `once` makes it a session's: a second attempt fails (see `openSession`).
 */
function connectSocket(reachability: Reachability, once?: Guard, typesFrom?: postgres.ParsedOptions) {
  let used = false;
  return (parsed: postgres.ParsedOptions) => {
    if (once) {
      if (used || once.lost) throw connectionLost(once.what);
      used = true;
    }
    // postgres.js reads `fetch_types` right after this returns, for this connection.
    if (typesFrom) copyArrayTypes(typesFrom, parsed);
    if (arrayTypesKnown(parsed)) (parsed as { fetch_types: boolean }).fetch_types = false;
    const host = parsed.host[0] ?? 'localhost';
    const port = parsed.port[0] ?? 5432;
    const socket = parsed.path ? tcpConnect(parsed.path) : tcpConnect(port, host);
    // postgres.js names the address in its connection errors from these.
    Object.assign(socket, { host, port });
    // A session sends nothing once its connection failed (this runs before postgres.js's handler).
    if (once) socket.once('error', () => (once.lost = true));
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      reachability.connected();
      closeWithoutError(socket);
    });
    socket.once('close', () => {
      if (!connected) reachability.failed();
    });
    return socket;
  };
}

/**
 * Delivers the 'close' of a connected socket to postgres.js as a close without error. After an
 * error, postgres.js's close handler leaves the statements it sent between the 'error' (which
 * rejected those in flight then) and the 'close' unsettled; after a plain close it rejects every
 * statement still waiting, with CONNECTION_CLOSED.
 */
function closeWithoutError(socket: Socket): void {
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
    return event === 'close' ? emit.call(this, event, false) : emit.call(this, event, ...args);
  } as Socket['emit'];
}

/** The parts of postgres.js's parsed options that hold what `fetch_types` read. */
interface TypeTables {
  parsers: Record<number, unknown>;
  serializers: Record<number, unknown>;
  shared: { typeArrayMap: Record<number, number> };
}

const arrayTypesKnown = (options: postgres.ParsedOptions): boolean =>
  Object.keys((options as unknown as TypeTables).shared.typeArrayMap).length > 0;

/** Gives `to` the array types `from` has read, with the parsers and serializers built for them. */
function copyArrayTypes(from: postgres.ParsedOptions, to: postgres.ParsedOptions): void {
  if (!arrayTypesKnown(from) || arrayTypesKnown(to)) return;
  const source = from as unknown as TypeTables;
  const target = to as unknown as TypeTables;
  for (const [oid, typarray] of Object.entries(source.shared.typeArrayMap)) {
    target.shared.typeArrayMap[Number(oid)] = typarray;
    target.parsers[typarray] = source.parsers[typarray];
    target.serializers[typarray] = source.serializers[typarray];
  }
}

function resolveTimeouts(options: SqlOptions): { statementMs: number; lockMs: number } {
  if (options.statementTimeoutMs !== undefined && options.lockTimeoutMs !== undefined) {
    return { statementMs: options.statementTimeoutMs, lockMs: options.lockTimeoutMs };
  }
  // A worker thread or a script: the same variables the service validated at start-up.
  const fromEnv = loadDatabaseTimeouts();
  return {
    statementMs: options.statementTimeoutMs ?? fromEnv.statementMs,
    lockMs: options.lockTimeoutMs ?? fromEnv.lockMs,
  };
}

/** PostgreSQL error codes the application reacts to. */
export const PG = {
  uniqueViolation: '23505',
} as const;

export const isPgError = (error: unknown): error is postgres.PostgresError => error instanceof postgres.PostgresError;

/**
 * Errors that mean "the connection is gone or could not be made" (answer 503, retry later). The
 * outcome of a statement that failed this way is unknown: it may have committed.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'CONNECT_TIMEOUT' ||
    code === 'DATABASE_UNREACHABLE' ||
    code === 'CONNECTION_CLOSED' ||
    code === 'CONNECTION_ENDED' ||
    code === 'CONNECTION_DESTROYED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'EPIPE' ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '08006' ||
    code === '08001'
  );
}

/**
 * SQLSTATEs of a database that is there but cannot serve right now: connection exceptions (08),
 * insufficient resources (53: too many connections, disk full, out of memory), operator
 * intervention (57: statement timeout, cancel, shutdown), system errors (58), a lock wait past
 * lock_timeout (55P03), serialization failures and deadlocks (40001, 40P01), a read-only server
 * (25006: a standby after a failover) and a refused login (28).
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58', '28']);
const UNAVAILABLE_CODES = new Set(['55P03', '40001', '40P01', '25006']);

/**
 * True when `error` (or an error in its `cause` chain) is a database fault rather than a bug: the
 * request may succeed later, so it is answered 503 with Retry-After, never 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isConnectionError(e)) return true;
    if (isPgError(e) && (UNAVAILABLE_CLASSES.has(e.code.slice(0, 2)) || UNAVAILABLE_CODES.has(e.code))) return true;
  }
  return false;
}

/** The error a statement gets on a connection that is already lost (the shape of postgres.js's own). */
function connectionLost(what: string): Error {
  return Object.assign(new Error(`write CONNECTION_CLOSED (${what})`), {
    code: 'CONNECTION_CLOSED',
    errno: 'CONNECTION_CLOSED',
  });
}

/** What a guarded statement or transaction knows about its connection. */
interface Guard {
  /** The connection closed, a statement failed with a connection error, or the transaction ended. */
  lost: boolean;
  what: string;
}

/**
 * A query that was never sent: it rejects when awaited (not before, so that nobody gets an
 * unhandled rejection for a query built and dropped), like a postgres.js query on a closed pool.
 */
function failedQuery(error: () => Error): postgres.PendingQuery<postgres.Row[]> {
  const fail = () => Promise.reject(error());
  const query = {
    // biome-ignore lint/suspicious/noThenProperty: a lazy thenable standing in for a postgres.js query
    then: (onFulfilled?: (v: never) => unknown, onRejected?: (e: unknown) => unknown) =>
      fail().then(onFulfilled, onRejected),
    catch: (onRejected?: (e: unknown) => unknown) => fail().catch(onRejected),
    finally: (onFinally?: () => void) => fail().finally(onFinally),
    execute: () => query,
    simple: () => query,
    values: () => query,
    raw: () => query,
    describe: () => query,
    cancel: () => undefined,
  };
  return query as unknown as postgres.PendingQuery<postgres.Row[]>;
}

/** Marks `guard` lost when `query` fails with a connection error, before the caller sees the error. */
function watch<Q>(query: Q, guard: Guard): Q {
  const pending = query as unknown as { then: (f?: unknown, r?: unknown) => unknown };
  const then = pending.then;
  Object.defineProperty(pending, 'then', {
    configurable: true,
    writable: true,
    value(this: unknown, onFulfilled?: unknown, onRejected?: (e: unknown) => unknown) {
      return then.call(this, onFulfilled, (error: unknown) => {
        if (isConnectionError(error)) guard.lost = true;
        if (onRejected) return onRejected(error);
        throw error;
      });
    },
  });
  return query;
}

const isTemplate = (value: unknown): boolean =>
  Array.isArray(value) && Array.isArray((value as unknown as { raw?: unknown }).raw);

/**
 * `sql` (a transaction's, a savepoint's or a session's) that sends nothing once `guard` is lost.
 * Helpers (`sql(rows)`, `sql.json(...)`) pass through: they build values and send nothing.
 */
function guardSql<S extends object>(sql: S, guard: Guard, overrides: Record<string, unknown> = {}): S {
  const send =
    (fn: (...args: unknown[]) => unknown) =>
    (...args: unknown[]) =>
      guard.lost ? failedQuery(() => connectionLost(guard.what)) : watch(fn(...args), guard);
  return new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      if (!isTemplate(args[0])) return Reflect.apply(target as (...a: unknown[]) => unknown, thisArg, args);
      if (guard.lost) return failedQuery(() => connectionLost(guard.what));
      return watch(Reflect.apply(target as () => unknown, thisArg, args), guard);
    },
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(overrides, property)) return overrides[property];
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'unsafe' || property === 'file') return send(value as (...args: unknown[]) => unknown);
      if (property === 'savepoint') return guardedSavepoint(value as SavepointFn, guard);
      if (property === 'begin') return guardedBegin(value as Sql['begin'], guard);
      return value;
    },
  });
}

/** How long a callback whose connection seems lost waits for the close before it lets go (below). */
const LOST_CONNECTION_GRACE_MS = 30_000;

/**
 * Runs a transaction or savepoint callback and hands its outcome back to postgres.js, unless the
 * connection was lost meanwhile: then postgres.js would send COMMIT or ROLLBACK (ROLLBACK TO) to
 * that connection (the crash described at `createSql`), so the outcome is withheld. The
 * transaction's `begin()` still settles: postgres.js rejects it when the connection closes. Should
 * the connection not close after all (a connection error that was not one), the callback's error
 * is handed back after a grace period and postgres.js rolls back as usual.
 */
async function outcomeUnlessLost(guard: Guard, settled: { done: boolean }, run: () => unknown): Promise<unknown> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await run() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (!guard.lost) {
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }
  return new Promise((_, reject) => {
    const error = outcome.ok ? connectionLost(guard.what) : outcome.error;
    const timer = setTimeout(() => {
      if (!settled.done) reject(error);
    }, LOST_CONNECTION_GRACE_MS);
    timer.unref();
  });
}

/**
 * `begin` whose callback gets a guarded transaction (see `createSql`). `parent` is the guard of
 * the session a transaction runs in, if any.
 */
function guardedBegin(begin: Sql['begin'], parent?: Guard, reachability?: Reachability): Sql['begin'] {
  const run = begin as unknown as (...args: unknown[]) => Promise<unknown>;
  return ((...args: unknown[]) => {
    if (parent?.lost) return Promise.reject(connectionLost(parent.what));
    if (reachability?.failFast()) return Promise.reject(unreachable());
    const callback = args.pop() as (tx: TransactionSql) => unknown;
    const guard: Guard = { lost: false, what: 'the connection of this transaction is lost' };
    const settled = { done: false };
    const transaction = run(...args, (tx: TransactionSql) =>
      outcomeUnlessLost(guard, settled, () => callback(guardSql(tx, guard))),
    );
    // Once `begin` settled (committed, rolled back, or its connection closed), the transaction is
    // over: a statement still sent through it would run on a connection back in the pool.
    const over = () => {
      settled.done = true;
      guard.lost = true;
    };
    transaction.then(over, over);
    return transaction;
  }) as unknown as Sql['begin'];
}

type SavepointFn = (...args: unknown[]) => Promise<unknown>;

function guardedSavepoint(savepoint: SavepointFn, guard: Guard): SavepointFn {
  return (...args: unknown[]) => {
    if (guard.lost) return Promise.reject(connectionLost(guard.what));
    const callback = args.pop() as (sql: TransactionSql) => unknown;
    const settled = { done: false };
    const result = savepoint(...args, (sp: TransactionSql) =>
      outcomeUnlessLost(guard, settled, () => callback(guardSql(sp, guard))),
    );
    const over = () => {
      settled.done = true;
    };
    result.then(over, over);
    return result;
  };
}

/**
 * A session: one PostgreSQL connection of its own, for session state such as an advisory lock.
 * Unlike postgres.js's `reserve()`, it never outlives its connection: once the connection closes
 * (backend terminated, server restarted, network cut), it is not opened again, so a lock
 * cannot silently vanish under a connection that looks alive, and every statement fails with
 * CONNECTION_CLOSED without touching the closed socket. `release()` closes it. Resolves once the
 * connection is open (rejects when the database cannot be reached).
 */
async function openSession(
  url: string,
  options: Partial<postgres.Options<Record<string, postgres.PostgresType>>>,
  reachability: Reachability,
  pool: postgres.ParsedOptions,
): Promise<ReservedSql> {
  const guard: Guard = { lost: false, what: 'this session’s connection is closed; open another' };
  const session = postgres(url, {
    ...options,
    max: 1,
    idle_timeout: 0,
    max_lifetime: 0,
    onclose: () => {
      guard.lost = true;
    },
    // The only way to stop postgres.js from opening a closed connection again is to give it no
    // socket: the second attempt fails and the statement that caused it gets CONNECTION_CLOSED.
    socket: connectSocket(reachability, guard, pool),
  } as Partial<postgres.Options<Record<string, postgres.PostgresType>>>);
  try {
    await session`select 1`;
  } catch (error) {
    await session.end({ timeout: 0 }).catch(() => {});
    throw error;
  }
  const release = () => {
    guard.lost = true;
    void session.end({ timeout: 5 }).catch(() => {});
  };
  return guardSql(session, guard, { release, reserve: undefined }) as unknown as ReservedSql;
}

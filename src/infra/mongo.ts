import {
  type Db,
  MongoBulkWriteError,
  MongoClient,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { Logger } from './logger.ts';

export type { Collection, Db, Filter, FindCursor, MongoClient, Sort } from 'mongodb';

/**
 * The one place a MongoDB client is made. The views live in the database named by the URL's path.
 *
 * FerretDB v1 (the local stack's MongoDB) shapes how callers write, so these rules hold everywhere:
 * - One update statement per command. FerretDB keeps every matched statement's cursor open until the
 *   whole command ends, one PostgreSQL connection each; a `bulkWrite` of ~50 updates exhausts its pool
 *   and deadlocks the server for every client. Inserts and single-filter deletes are safe in bulk.
 * - Create collections before concurrent writes: creating one takes a global lock that, under load,
 *   waits for a pool connection held by writers that wait for the lock.
 * - Only top-level equality filters reach PostgreSQL; ranges, `$in`, `$or` and regexes are evaluated
 *   after decoding every document of the collection. Hot paths filter by equality.
 */
export function createMongo(
  url: string,
  options: { logger: Logger; appName: string; maxPoolSize: number },
): MongoClient {
  const client = new MongoClient(url, {
    appName: options.appName,
    maxPoolSize: options.maxPoolSize,
    // Fail fast when the server is gone, so a projection pauses and readiness drops within seconds.
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    // A write that hangs longer than this has an unknown outcome; the projection retries it (idempotent).
    socketTimeoutMS: 30_000,
  });
  const log = options.logger.child({ component: 'mongodb' });
  client.on('serverHeartbeatFailed', (event) => log.debug({ failure: event.failure.message }, 'heartbeat failed'));
  return client;
}

/** The database named in the URL (`mongodb://host/catalog` -> `catalog`). */
export const viewsDb = (client: MongoClient): Db => client.db();

/**
 * Socket errors that the driver (7.9) passes on unwrapped: a pooled connection that MongoDB reset
 * (a restarted FerretDB) fails its next command with Node's own `write ECONNRESET`, not a
 * `MongoNetworkError`. Each pooled connection fails once that way before the pool replaces it.
 */
const SOCKET_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT']);

const isSocketError = (error: unknown): boolean =>
  error instanceof Error && SOCKET_ERROR_CODES.has((error as NodeJS.ErrnoException).code ?? '');

const INTERNAL_ERROR = 1;
/**
 * What FerretDB says, as an InternalError, when its PostgreSQL is restarting or its connections to
 * it were cut: a refused connect, SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown,
 * crash, starting up), 53300 (too many connections), or pgx's own words for a dead connection.
 */
const BACKEND_UNAVAILABLE =
  /failed to connect to|SQLSTATE (08\w{3}|57P0[1-3]|53300)|conn closed|unexpected EOF|connection reset by peer|broken pipe/;

/**
 * The server is up but its storage is not: FerretDB with its PostgreSQL away. Nothing is wrong with
 * the request; the same write succeeds once the backend is back, so it is never a refusal (which a
 * projection would bisect and dead-letter).
 */
const isBackendUnavailable = (error: unknown): boolean =>
  error instanceof MongoServerError && error.code === INTERNAL_ERROR && BACKEND_UNAVAILABLE.test(error.message);

/** Errors that mean "MongoDB is not reachable right now": pause and retry, never skip. */
export function isMongoUnavailable(error: unknown): boolean {
  return (
    isSocketError(error) ||
    isBackendUnavailable(error) ||
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    // A shutdown closes the client under operations still waiting on a slow server.
    error instanceof MongoClientClosedError
  );
}

/**
 * True when the server answered and refused the write itself (a constraint, a value it cannot
 * store): trying the same write again will fail the same way. A server that is shutting down or
 * stepping down labels its errors retryable; those are not refusals.
 */
export function isWriteRefused(error: unknown): boolean {
  return (
    error instanceof MongoServerError &&
    !isMongoUnavailable(error) &&
    !error.hasErrorLabel('RetryableWriteError') &&
    !error.hasErrorLabel('TransientTransactionError')
  );
}

const MAX_TIME_MS_EXPIRED = 50;

/** True when the server gave up on a query because it ran past its maxTimeMS. */
export function isTimeLimitExceeded(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED;
}

const DUPLICATE_KEY = 11000;

/** True when every failure of a write is a duplicate key: the documents are already there. */
export function isOnlyDuplicateKeys(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    const failures = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    return failures.length > 0 && failures.every((failure) => failure.code === DUPLICATE_KEY);
  }
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** The `_id`s a failed `insertMany` could not insert because they already exist. */
export function duplicateKeyIndexes(error: MongoBulkWriteError): number[] {
  const failures = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return failures.filter((failure) => failure.code === DUPLICATE_KEY).map((failure) => failure.index);
}

export async function pingMongo(client: MongoClient, timeoutMS = 2_000): Promise<void> {
  await client.db('admin').command({ ping: 1 }, { timeoutMS });
}

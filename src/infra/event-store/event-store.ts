import type { Sql } from '../postgres.ts';
import { type AppendRequest, type AppendResult, appendBatch } from './append.ts';
import { readStream, readStreamTail, readStreamVersion, type StoredEvent, type StreamTail } from './read.ts';

/**
 * The narrow interface the actors need from an event store. PostgreSQL is the real one; the
 * in-memory one (same contract, same test suite) lets the actor runtime be unit-tested.
 */
export interface EventStore {
  /** Group commit: one outcome per request, as `appendBatch` documents. */
  appendBatch(requests: readonly AppendRequest[]): Promise<AppendResult[]>;
  readStream(aggregateId: string, afterVersion?: number): Promise<StoredEvent[]>;
  /** The latest snapshot and the events after it: what rebuilding an actor reads. */
  readTail(aggregateId: string): Promise<StreamTail>;
  /** The stream's current version, 0 for none: how an actor checks that its cached state is current. */
  streamVersion(aggregateId: string): Promise<number>;
}

export const postgresEventStore = (sql: Sql): EventStore => ({
  appendBatch: (requests) => appendBatch(sql, requests),
  readStream: (id, after) => readStream(sql, id, after),
  readTail: (id) => readStreamTail(sql, id),
  streamVersion: (id) => readStreamVersion(sql, id),
});

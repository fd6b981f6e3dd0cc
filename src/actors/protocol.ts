import type { EventMetadata } from '../domain/envelope.ts';
import type { ProductCommand } from '../domain/product/commands.ts';
import type { RejectionCode } from '../domain/rejection.ts';
import type { IdempotencyRecord } from '../infra/event-store/append.ts';

/**
 * What crosses the thread boundary between the HTTP thread and the worker that owns a product:
 * plain data only (structured clone), so no class instances, functions or undefined-valued keys.
 */

export interface CommandTask {
  productId: string;
  command: ProductCommand;
  /** From `If-Match`: the command applies only if the product is at this version. */
  expectedVersion?: number;
  metadata: EventMetadata;
  /** Stored with the append, in the same transaction, when the request carried an Idempotency-Key. */
  idempotency?: { key: string; requestHash: string };
}

export type FailureCode =
  | RejectionCode
  | 'sku-taken'
  | 'precondition-failed'
  | 'version-conflict'
  /** The event store could not be reached, or the commit's outcome is unknown. */
  | 'unavailable'
  /** A bounded queue (the actor's mailbox, the group committer) is full: retry later. */
  | 'overloaded';

export type CommandOutcome =
  | { ok: true; version: number; stock: number; reservationId?: string }
  | { ok: false; code: FailureCode; detail: string; currentVersion?: number };

export interface TaskResult {
  outcome: CommandOutcome;
  /**
   * The Idempotency-Key was already committed: nothing was appended, and this is what the first
   * request stored. The HTTP layer compares its request hash and answers with its outcome.
   */
  replay?: IdempotencyRecord;
  /** Whether this command's events were committed (the outbox relay has something to publish). */
  appended: boolean;
  /** How many commands shared this command's transaction (group commit), 0 when none was needed. */
  batchSize: number;
  liveActors: number;
  /** The worker thread that owns the product (for per-worker metrics). */
  workerId: number;
}

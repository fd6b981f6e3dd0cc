import type { EventMetadata } from '../domain/envelope.ts';
import type { ProductCommand } from '../domain/product/commands.ts';
import type { RejectionCode } from '../domain/rejection.ts';

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
  /** Another process committed this Idempotency-Key first: the caller answers from the stored record. */
  | 'idempotency-conflict'
  /** The event store could not be reached, or the commit's outcome is unknown. */
  | 'unavailable';

export type CommandOutcome =
  | { ok: true; version: number; stock: number; reservationId?: string }
  | { ok: false; code: FailureCode; detail: string; currentVersion?: number };

export interface TaskResult {
  outcome: CommandOutcome;
  /** How many commands shared this command's transaction (group commit), 0 when none was needed. */
  batchSize: number;
  liveActors: number;
  /** The worker thread that owns the product (for per-worker metrics). */
  workerId: number;
}

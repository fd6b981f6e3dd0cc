/**
 * Why the decider refused a command: a value returned to the caller, never thrown, so an actor can
 * reply with it and keep running. The HTTP edge maps each code to a status once.
 *
 * `sku-taken` is deliberately absent: SKU uniqueness spans aggregates, so no single product's decider
 * can know it; the event store enforces it in the append transaction.
 */
export const REJECTION_CODES = [
  'already-exists',
  'not-found',
  'product-discontinued',
  'insufficient-stock',
  'stock-limit',
  'nothing-to-change',
  'invalid-command',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface Rejection {
  code: RejectionCode;
  detail: string;
}

import type { CommandOutcome } from '../../actors/protocol.ts';
import { type ProblemCode, ProblemError } from '../problem.ts';

/**
 * Maps a command's outcome to its HTTP answer, once. An idempotent replay maps the stored outcome
 * through the same function, so it gets the original status and body.
 */

export type WriteKind = 'create' | 'price' | 'details' | 'restock' | 'reserve' | 'discontinue';

export interface WriteAnswer {
  status: 200 | 201;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export const etag = (version: number): string => `"${version}"`;

const failureCodes: Record<Exclude<CommandOutcome, { ok: true }>['code'], ProblemCode> = {
  'already-exists': 'already-exists',
  'not-found': 'not-found',
  'product-discontinued': 'product-discontinued',
  'insufficient-stock': 'insufficient-stock',
  'stock-limit': 'stock-limit',
  'nothing-to-change': 'nothing-to-change',
  'invalid-command': 'validation-failed',
  'sku-taken': 'sku-taken',
  'precondition-failed': 'precondition-failed',
  'version-conflict': 'version-conflict',
  unavailable: 'service-unavailable',
  overloaded: 'service-unavailable',
};

export function answer(kind: WriteKind, productId: string, outcome: CommandOutcome): WriteAnswer | ProblemError {
  if (!outcome.ok) {
    const code = failureCodes[outcome.code];
    const extra: Record<string, unknown> = {};
    const headers: Record<string, string> = {};
    if (outcome.currentVersion !== undefined && code === 'precondition-failed') {
      extra.currentVersion = outcome.currentVersion;
      headers.ETag = etag(outcome.currentVersion);
    }
    if (code === 'validation-failed') extra.errors = [{ path: '/', message: outcome.detail }];
    if (code === 'service-unavailable' || code === 'version-conflict') headers['Retry-After'] = '1';
    return new ProblemError(code, outcome.detail, extra, headers);
  }
  const headers = { ETag: etag(outcome.version) };
  const base = { id: productId, version: outcome.version };
  switch (kind) {
    case 'create':
      return { status: 201, body: base, headers: { ...headers, Location: `/products/${productId}` } };
    case 'restock':
      return { status: 200, body: { ...base, stock: outcome.stock }, headers };
    case 'reserve':
      return { status: 201, body: { ...base, stock: outcome.stock, reservationId: outcome.reservationId }, headers };
    default:
      return { status: 200, body: base, headers };
  }
}

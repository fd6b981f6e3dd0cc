import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Failure, StructError } from 'superstruct';
import { escapeUnstorable } from '../domain/text.ts';
import type { Logger } from '../infra/logger.ts';

/**
 * The one family of HTTP errors, answered as RFC 9457 problem+json. Domain rejections and
 * infrastructure failures are mapped to a `ProblemError` once, and `problemHandler` writes it.
 */

export const PROBLEM_BASE = '/problems/';

export const PROBLEMS = {
  'invalid-json': { status: 400, title: 'Request body is not valid JSON' },
  'idempotency-key-required': { status: 400, title: 'This operation requires an Idempotency-Key header' },
  unauthorized: { status: 401, title: 'Missing or invalid bearer token' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this path' },
  'already-exists': { status: 409, title: 'Product already exists' },
  'sku-taken': { status: 409, title: 'SKU already used by another product' },
  'insufficient-stock': { status: 409, title: 'Not enough stock' },
  'stock-limit': { status: 409, title: 'The stock would pass the largest storable quantity' },
  'product-discontinued': { status: 409, title: 'Product is discontinued' },
  'nothing-to-change': { status: 409, title: 'Nothing to change' },
  'version-conflict': { status: 409, title: 'Concurrent modification, try again' },
  'idempotency-key-in-flight': { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  'precondition-failed': { status: 412, title: 'If-Match does not match the current version' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Request body must be application/json' },
  'validation-failed': { status: 422, title: 'Request does not match the schema' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key was used with a different request' },
  'service-unavailable': { status: 503, title: 'A dependency is unavailable, retry later' },
  'internal-error': { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  path: string;
  message: string;
}

export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  get status(): ContentfulStatusCode {
    return PROBLEMS[this.code].status;
  }

  body(instance?: string): Record<string, unknown> {
    return {
      type: `${PROBLEM_BASE}${this.code}`,
      title: PROBLEMS[this.code].title,
      status: this.status,
      detail: escapeUnstorable(this.detail),
      // Hono decodes the path: `%00` in it is a NUL.
      ...(instance ? { instance: escapeUnstorable(instance) } : {}),
      ...this.extra,
    };
  }
}

/**
 * A JSON Pointer to a field. A name holding NUL or an unpaired surrogate (an unknown field of a
 * hostile body) is written with `\uXXXX` escapes, so the problem stays well-formed JSON (I-JSON)
 * that every client can parse.
 */
export const pointer = (path: readonly (string | number)[]): string =>
  path.length === 0
    ? '/'
    : `/${path.map((p) => escapeUnstorable(String(p).replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

export function validationProblem(error: StructError, where = 'body'): ProblemError {
  // One entry per field: a value can fail several refinements, the first says enough.
  const byPath = new Map<string, Failure>();
  for (const failure of error.failures())
    if (!byPath.has(pointer(failure.path))) byPath.set(pointer(failure.path), failure);
  const failures = [...byPath.values()];
  const errors: FieldError[] = failures.map((failure) => ({
    path: pointer(failure.path),
    message:
      failure.value === undefined && failure.type !== 'never'
        ? 'is required'
        : failure.type === 'never'
          ? 'is not an allowed field'
          : // superstruct's own messages quote the value (`but received "..."`).
            escapeUnstorable(failure.message),
  }));
  return new ProblemError('validation-failed', `the ${where} has ${errors.length} invalid field(s)`, { errors });
}

/**
 * A 503: a dependency is down or busy. `detail` is the service's own words; the dependency's
 * error goes to the log, never to the client.
 */
export const serviceUnavailable = (detail: string, retryAfterSeconds = 1): ProblemError =>
  new ProblemError('service-unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) });

/**
 * The correlation id travels in the X-Correlation-Id header, not the body, so an idempotent
 * replay's body is the original's. Every 503 tells the client when to come back.
 */
export function problemResponse(c: Context, problem: ProblemError): Response {
  const retryAfter: Record<string, string> =
    problem.status === 503 && !('Retry-After' in problem.headers) ? { 'Retry-After': '1' } : {};
  return c.newResponse(JSON.stringify(problem.body(c.req.path)), problem.status, {
    'content-type': 'application/problem+json',
    ...retryAfter,
    ...problem.headers,
  });
}

/** Hono `onError`: every thrown error becomes problem+json; anything unexpected is logged as a 500. */
export function problemHandler(logger: () => Logger) {
  return function onError(error: Error, c: Context): Response {
    if (error instanceof ProblemError) return problemResponse(c, error);
    if (error instanceof StructError) return problemResponse(c, validationProblem(error));
    if (error instanceof HTTPException) {
      const code = error.status === 413 ? 'payload-too-large' : error.status === 401 ? 'unauthorized' : undefined;
      if (code) return problemResponse(c, new ProblemError(code, error.message || PROBLEMS[code].title));
    }
    const log = (c.get('logger' as never) as Logger | undefined) ?? logger();
    log.error({ err: error }, 'unhandled error');
    return problemResponse(
      c,
      new ProblemError('internal-error', 'the request failed; see the service log for this correlation id'),
    );
  };
}

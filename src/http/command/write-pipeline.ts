import { hash, randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { CommandOutcome, CommandTask, TaskResult } from '../../actors/protocol.ts';
import type { ProductCommand } from '../../domain/product/commands.ts';
import type { IdempotencyRecord } from '../../infra/event-store/append.ts';
import { ProblemError } from '../problem.ts';
import { answer, type WriteKind } from './outcome-response.ts';

export interface WriteDeps {
  dispatch: (task: CommandTask) => Promise<TaskResult>;
  onResult?: (kind: WriteKind, result: TaskResult) => void;
}

/** The two headers' rules, also written as the OpenAPI document's patterns (`KEY_PATTERN`, `IF_MATCH_PATTERN`). */
export const KEY_PATTERN = '^[\\x21-\\x7e]{1,255}$';
export const IF_MATCH_PATTERN = '^(?:\\*|(?:W/)?"?[0-9]{1,15}"?)$';
const KEY = new RegExp(KEY_PATTERN);
const IF_MATCH = new RegExp(IF_MATCH_PATTERN);

/** `If-Match: "<version>"`; `*` means "any existing version", which the decider checks anyway. */
function expectedVersion(c: Context): number | undefined {
  const header = c.req.header('if-match')?.trim();
  if (header === undefined) return undefined;
  if (!IF_MATCH.test(header)) {
    throw new ProblemError('validation-failed', 'If-Match must be an entity tag such as "3"', {
      errors: [{ path: '/headers/if-match', message: 'expected "<version>"' }],
    });
  }
  if (header === '*') return undefined;
  return Number(/\d+/.exec(header)?.[0]);
}

function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY.test(key)) {
    throw new ProblemError('validation-failed', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
      errors: [{ path: '/headers/idempotency-key', message: 'expected 1-255 visible ASCII characters' }],
    });
  }
  return key;
}

/**
 * The writes that are not idempotent by nature, so they require an Idempotency-Key: a retried
 * restock adds its quantity again, a retried reservation takes stock again (reservationIds are not
 * deduplicated, and the service generates one when the body has none). The other writes keep the
 * key optional: a retried create is a 409 (`already-exists` by id, `sku-taken` by SKU), a price
 * or details change sets a value (the same price changes nothing, the same details are a 409), a
 * second discontinue is a 409, and `If-Match` guards any of them.
 */
const KEY_REQUIRED: ReadonlySet<WriteKind> = new Set(['restock', 'reserve']);

/** Where the rule is documented: the draft's `Link` alternative to a link in the body. */
export const KEY_REQUIRED_LINK = '</docs>; rel="describedby"; type="text/html"';
export const KEY_REQUIRED_DETAIL =
  'this operation requires an Idempotency-Key header: a retried restock or reservation without one would apply twice';

/**
 * A 400 `idempotency-key-required` when the request has no Idempotency-Key (draft-ietf-httpapi-
 * idempotency-key-header: a missing key on an operation that requires one is a 400 that points to
 * documentation), a 422 when it is malformed. It changes nothing: routes call it before they read
 * the body, so the order of checks is 401 (token), 422 (id in the path), this, then the body
 * (415, 413, 400, 422), then If-Match.
 */
export function requireIdempotencyKey(c: Context): string {
  const key = idempotencyKey(c);
  if (key === undefined) {
    throw new ProblemError(
      'idempotency-key-required',
      KEY_REQUIRED_DETAIL,
      { errors: [{ path: '/headers/idempotency-key', message: 'is required' }] },
      { Link: KEY_REQUIRED_LINK },
    );
  }
  return key;
}

/**
 * A request's identity for idempotency: method, path, `If-Match` and the body's JSON with sorted
 * keys. `If-Match` is part of it, so a stored 412 is not replayed to a corrected request.
 */
export function requestHash(method: string, path: string, ifMatch: number | undefined, body: unknown): string {
  // The replacer sorts each object's keys as JSON.stringify meets it: no copy of the body is built.
  const sorted = (_key: string, value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value;
  return hash('sha256', `${method} ${path}\n${ifMatch ?? ''}\n${JSON.stringify(body ?? null, sorted)}`);
}

/**
 * The path every write takes: If-Match and Idempotency-Key are read, the command goes to its
 * product's actor and its outcome is mapped. The key is stored by the append itself: when it was
 * taken, the append wrote nothing and handed back the first request's record, which answers the
 * replay (no lookup before each write). Keys whose first request is still running in this process
 * answer 409; across processes the key's unique row settles the race inside the append.
 */
export function writePipeline(deps: WriteDeps) {
  const inFlight = new Set<string>();

  // The stored product id, not the request's: a create without an id generated one the first time.
  const replay = (kind: WriteKind, record: IdempotencyRecord, hash: string, c: Context) => {
    if (record.requestHash !== hash) {
      throw new ProblemError('idempotency-key-reused', 'this Idempotency-Key was used with a different request');
    }
    return respond(c, kind, record.aggregateId, record.outcome as CommandOutcome, true);
  };

  return async function write(
    c: Context,
    kind: WriteKind,
    productId: string,
    command: ProductCommand,
    body: unknown,
  ): Promise<Response> {
    const version = expectedVersion(c);
    const key = KEY_REQUIRED.has(kind) ? requireIdempotencyKey(c) : idempotencyKey(c);
    const hash = key === undefined ? '' : requestHash(c.req.method, c.req.path, version, body);
    if (key !== undefined) {
      if (inFlight.has(key)) {
        throw new ProblemError(
          'idempotency-key-in-flight',
          'a request with this Idempotency-Key is still being processed',
          {},
          { 'Retry-After': '1' },
        );
      }
      // Claimed before the first await, so a concurrent twin in this process sees it.
      inFlight.add(key);
    }
    let result: TaskResult;
    try {
      const correlationId = c.get('correlationId');
      const traceparent = c.req.header('traceparent');
      const task: CommandTask = {
        productId,
        command,
        metadata: {
          commandId: randomUUID(),
          correlationId,
          causationId: correlationId,
          ...(key !== undefined ? { idempotencyKey: key } : {}),
          ...(traceparent ? { traceparent } : {}),
        },
      };
      if (version !== undefined) task.expectedVersion = version;
      if (key !== undefined) task.idempotency = { key, requestHash: hash };
      result = await deps.dispatch(task);
    } finally {
      if (key !== undefined) inFlight.delete(key);
    }
    deps.onResult?.(kind, result);
    if (result.replay) return replay(kind, result.replay, hash, c);
    return respond(c, kind, productId, result.outcome, false);
  };
}

function respond(c: Context, kind: WriteKind, productId: string, outcome: CommandOutcome, replayed: boolean): Response {
  const mapped = answer(kind, productId, outcome);
  if (replayed) c.header('Idempotent-Replayed', 'true');
  if (mapped instanceof ProblemError) throw mapped;
  for (const [name, value] of Object.entries(mapped.headers)) c.header(name, value);
  return c.json(mapped.body, mapped.status);
}

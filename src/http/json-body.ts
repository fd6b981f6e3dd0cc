import type { Context } from 'hono';
import type { Struct } from 'superstruct';
import { validateInput } from '../domain/validate-input.ts';
import { ProblemError, validationProblem } from './problem.ts';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON request body and validates it: 415 when it is not JSON, 413 over 64 KiB (from
 * Content-Length, or counted while reading a chunked body), 400 when it does not parse,
 * 422 when it does not match the schema. Returns the raw text too (idempotency compares bodies).
 */
export async function readJson<T>(c: Context, schema: Struct<T, unknown>): Promise<{ value: T; raw: string }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new ProblemError('unsupported-media-type', `expected Content-Type application/json, got ${type || 'none'}`);
  }
  const length = c.req.header('content-length');
  if (length !== undefined && Number(length) > MAX_BODY_BYTES) throw tooLarge();
  // With a Content-Length the HTTP parser already bounds the body, and text() takes the adapter's
  // fast path; a chunked body is read as a stream and cut off at the limit.
  const raw = length !== undefined ? await c.req.raw.text() : await readLimited(c.req.raw);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ProblemError('invalid-json', `the body is not valid JSON: ${(error as Error).message}`);
  }
  const [error, value] = validateInput(parsed, schema, { coerce: true });
  if (error) throw validationProblem(error);
  return { value, raw };
}

/**
 * `close`: the rest of the body is left unread and the server drops the connection after the
 * answer; saying `Connection: close` keeps a client from sending its next request on that socket.
 */
const tooLarge = (close = false) =>
  new ProblemError(
    'payload-too-large',
    `the body exceeds ${MAX_BODY_BYTES} bytes`,
    {},
    close ? { Connection: 'close' } : {},
  );

async function readLimited(request: Request): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) throw await dropRest(reader);
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What is read and dropped of an oversized streamed body, at most, before the connection is closed. */
const DRAIN_BYTES = 1024 * 1024;
const DRAIN_MS = 2000;

/**
 * The rest of an oversized streamed body is read and dropped, within a bound, before the 413: a
 * server that closes while the client is still sending makes the client's kernel see a reset, and
 * the client then reports a failed connection instead of the 413 (seen in CI with 100 KiB). A body
 * that ends within the bound leaves the connection usable; one that does not is cut off, and the
 * connection closed.
 */
async function dropRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ProblemError> {
  const deadline = Date.now() + DRAIN_MS;
  for (let dropped = 0; dropped <= DRAIN_BYTES; ) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), Math.max(0, left));
      }),
    ]);
    clearTimeout(timer);
    if (next === undefined) break;
    if (next.done) return tooLarge();
    dropped += next.value.byteLength;
  }
  await reader.cancel();
  return tooLarge(true);
}

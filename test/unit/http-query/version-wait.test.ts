import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { MongoNetworkError } from 'mongodb';
import { problemHandler } from '../../../src/http/problem.ts';
import { productRoutes } from '../../../src/http/query/product-routes.ts';
import { unavailability } from '../../../src/http/query/unavailability.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { ProgressHub } from '../../../src/projections/progress-hub.ts';
import type { ViewReader } from '../../../src/projections/view-reader.ts';
import { evolveProduct, type ProductDoc } from '../../../src/projections/views/products/view.ts';
import { StreamBuilder } from '../projections/stream-builder.ts';

const stream = new StreamBuilder();
const atVersion2 = [stream.created({ stock: 1 }), stream.restocked(2)].reduce<ProductDoc | null>(
  (doc, event) => evolveProduct(doc, event, 0, new Date()),
  null,
) as ProductDoc;

/** The query app's routes over a reader that answers each read from `reads`, in turn (the last one for ever). */
function appReading(reads: (() => ProductDoc | null)[]): { app: Hono; calls: () => number } {
  let calls = 0;
  const reader = {
    product: async () => (reads[Math.min(calls++, reads.length - 1)] as () => ProductDoc | null)(),
  } as unknown as ViewReader;
  const logger = createLogger('test', 'silent');
  const app = new Hono();
  app.route('/', productRoutes({ reader, hub: new ProgressHub(), cursorTtlMs: 60_000, fallbackPollMs: 20 }));
  app.onError((error, c) => problemHandler(() => logger)(unavailability(error) ?? error, c));
  return { app, calls: () => calls };
}

const down = () => {
  throw new MongoNetworkError('connect ECONNREFUSED');
};

test('a minVersion read waits out a views database that does not answer for a moment, within maxWaitMs', async () => {
  const { app, calls } = appReading([down, down, () => atVersion2]);
  const response = await app.request(`/products/${stream.id}?minVersion=2&maxWaitMs=5000`);
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { version: number }).version, 2);
  assert.equal(calls(), 3);
});

test('a views database still down at the deadline answers 503 with Retry-After', async () => {
  const { app, calls } = appReading([down]);
  const started = Date.now();
  const response = await app.request(`/products/${stream.id}?minVersion=2&maxWaitMs=200`);
  assert.equal(response.status, 503);
  assert.ok(response.headers.get('retry-after'));
  assert.ok(Date.now() - started >= 200, 'it waited the time the client granted');
  assert.ok(calls() > 2);
});

test('a failure that is not unavailability is not retried', async () => {
  const { app, calls } = appReading([
    () => {
      throw new Error('a bug');
    },
  ]);
  const response = await app.request(`/products/${stream.id}?minVersion=2&maxWaitMs=5000`);
  assert.equal(response.status, 500);
  assert.equal(calls(), 1);
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ActorRegistry } from '../../../src/actors/actor-registry.ts';
import { commandApp } from '../../../src/http/command/app.ts';
import { requestHash } from '../../../src/http/command/write-pipeline.ts';
import { InMemoryEventStore } from '../../../src/infra/event-store/in-memory.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';
import { actorContext } from '../../support/actor-context.ts';

/**
 * The command API driven with `app.request()`: the real routes, pipeline and actors, on the
 * in-memory event store (which passes the same contract suite as PostgreSQL).
 */

const token = 'unit-test-token-0123456789';

function build() {
  const store = new InMemoryEventStore();
  const actors = new ActorRegistry(actorContext(store, { now: () => new Date() }), 1000, 60_000);
  const app = commandApp({
    tokens: [token],
    logger: createLogger('test', 'silent'),
    registry: createRegistry('test'),
    readiness: {},
    dispatch: (task) => actors.get(task.productId).tell(task),
    readEvents: (id) => store.readStream(id),
  });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return { app, store, call };
}

const product = (extra: Record<string, unknown> = {}) => ({
  sku: `SKU-${randomUUID()}`,
  name: 'Coffee mug',
  price: { amount: 1299, currency: 'EUR' },
  initialStock: 5,
  ...extra,
});

/** Restocks and reservations require an Idempotency-Key: a fresh one per logical request. */
const keyed = () => ({ 'idempotency-key': randomUUID() });

async function problem(response: Response, status: number, code: string) {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.type, `/problems/${code}`);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  return body;
}

describe('command API', () => {
  test('creates a product: 201, Location, ETag and {id, version}', async () => {
    const { call } = build();
    const id = randomUUID();
    const response = await call('POST', '/products', product({ id }));
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('location'), `/products/${id}`);
    assert.equal(response.headers.get('etag'), '"1"');
    assert.deepEqual(await response.json(), { id, version: 1 });
  });

  test('every write route answers with the new version', async () => {
    const { call } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id }));
    assert.deepEqual(await (await call('PUT', `/products/${id}/price`, { amount: 1500, currency: 'EUR' })).json(), {
      id,
      version: 2,
    });
    assert.deepEqual(await (await call('PATCH', `/products/${id}`, { name: 'Big mug' })).json(), { id, version: 3 });
    assert.deepEqual(await (await call('POST', `/products/${id}/stock/restock`, { quantity: 5 }, keyed())).json(), {
      id,
      version: 4,
      stock: 10,
    });
    const reservation = await call(
      'POST',
      `/products/${id}/stock/reservations`,
      { quantity: 3, reservationId: 'r-1' },
      keyed(),
    );
    assert.equal(reservation.status, 201);
    assert.deepEqual(await reservation.json(), { id, version: 5, stock: 7, reservationId: 'r-1' });
    assert.deepEqual(await (await call('DELETE', `/products/${id}`)).json(), { id, version: 6 });
    const events = (await (await call('GET', `/products/${id}/events`)).json()) as {
      items: { type: string; version: number }[];
    };
    assert.deepEqual(
      events.items.map((e) => e.type),
      [
        'ProductCreated',
        'ProductPriceChanged',
        'ProductDetailsUpdated',
        'ProductRestocked',
        'StockReserved',
        'ProductDiscontinued',
      ],
    );
  });

  test('401 without a token or with a wrong one; health, metrics and docs stay open', async () => {
    const { app } = build();
    await problem(await app.request('/products', { method: 'POST' }), 401, 'unauthorized');
    await problem(
      await app.request('/products/x/events', { headers: { authorization: 'Bearer nope' } }),
      401,
      'unauthorized',
    );
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json', '/docs']) {
      assert.equal((await app.request(path)).status, 200, path);
    }
  });

  test('400 for unparseable JSON, 415 for another media type, 413 over 64 KiB', async () => {
    const { call } = build();
    await problem(await call('POST', '/products', '{"sku":'), 400, 'invalid-json');
    await problem(
      await call('POST', '/products', 'sku=1', { 'content-type': 'text/plain' }),
      415,
      'unsupported-media-type',
    );
    await problem(
      await call('POST', '/products', product({ description: 'x'.repeat(70_000) })),
      413,
      'payload-too-large',
    );
  });

  test('an oversized streamed body is read to its end within a bound, so the client gets its 413 instead of a reset', async () => {
    const { app } = build();
    const streamed = (chunks: number, onCancel: () => void = () => {}) =>
      app.request('/products', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        duplex: 'half',
        body: new ReadableStream<Uint8Array>({
          pull(controller) {
            if (chunks-- <= 0) controller.close();
            else controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
          },
          cancel: onCancel,
        }),
      } as RequestInit);
    // 160 KiB that ends: dropped after the limit, and the connection stays usable.
    const ended = await streamed(10);
    await problem(ended, 413, 'payload-too-large');
    assert.equal(ended.headers.get('connection'), null);
    // A body that does not end within 1 MiB is cut off, and the connection is closed.
    let cancelled = false;
    const endless = await streamed(Number.POSITIVE_INFINITY, () => {
      cancelled = true;
    });
    await problem(endless, 413, 'payload-too-large');
    assert.equal(endless.headers.get('connection'), 'close');
    assert.ok(cancelled, 'the rest of the endless body was not read');
  });

  test('422 lists every schema violation with its path', async () => {
    const { call, store } = build();
    const body = await problem(
      await call('POST', '/products', {
        sku: '',
        name: 'Mug',
        // biome-ignore lint/correctness/noPrecisionLoss: an unsafe integer is the input under test
        price: { amount: 9007199254740993, currency: 'euro' },
        initialStock: -1,
        colour: 'red',
      }),
      422,
      'validation-failed',
    );
    const paths = (body.errors as { path: string }[]).map((e) => e.path).sort();
    assert.deepEqual(paths, ['/colour', '/initialStock', '/price/amount', '/price/currency', '/sku']);
    await problem(
      await call('PUT', '/products/not-a-uuid/price', { amount: 1, currency: 'EUR' }),
      422,
      'validation-failed',
    );
    await problem(await call('POST', '/products', product({ name: { $gt: '' } })), 422, 'validation-failed');
    assert.equal(store.appendCalls, 0, 'nothing was written');
  });

  test('404 for a write to an unknown product even with an If-Match, which only an existing product can fail', async () => {
    const { call } = build();
    const id = randomUUID();
    await problem(
      await call('PUT', `/products/${id}/price`, { amount: 100, currency: 'EUR' }, { 'if-match': '"3"' }),
      404,
      'not-found',
    );
    await problem(await call('DELETE', `/products/${id}`, undefined, { 'if-match': '"1"' }), 404, 'not-found');
  });

  test('a method a path does not have is a 405 listing the methods it has in Allow', async () => {
    const { call } = build();
    const id = randomUUID();
    for (const [method, path, allow] of [
      ['GET', '/products', 'POST'],
      ['PUT', `/products/${id}`, 'DELETE, PATCH'],
      ['POST', `/products/${id}/price`, 'PUT'],
      ['DELETE', `/products/${id}/events`, 'GET, HEAD'],
      ['POST', '/health/live', 'GET, HEAD'],
    ] as const) {
      const response = await call(method, path);
      await problem(response, 405, 'method-not-allowed');
      assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
    }
    await problem(await call('GET', '/nothing-here'), 404, 'not-found');
  });

  test('a restock the stock cannot take is a 409 stock-limit, not a validation error', async () => {
    const { call } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id, initialStock: Number.MAX_SAFE_INTEGER - 1 }));
    await problem(await call('POST', `/products/${id}/stock/restock`, { quantity: 2 }, keyed()), 409, 'stock-limit');
  });

  test('404 for a command on an unknown product and for its events', async () => {
    const { call } = build();
    await problem(
      await call('PUT', `/products/${randomUUID()}/price`, { amount: 1, currency: 'EUR' }),
      404,
      'not-found',
    );
    await problem(await call('GET', `/products/${randomUUID()}/events`), 404, 'not-found');
  });

  test('409 for each business rule', async () => {
    const { call } = build();
    const id = randomUUID();
    const first = product({ id });
    await call('POST', '/products', first);
    await problem(await call('POST', '/products', product({ id })), 409, 'already-exists');
    await problem(await call('POST', '/products', product({ sku: first.sku })), 409, 'sku-taken');
    await problem(
      await call('POST', `/products/${id}/stock/reservations`, { quantity: 6 }, keyed()),
      409,
      'insufficient-stock',
    );
    await problem(await call('PATCH', `/products/${id}`, { name: 'Coffee mug' }), 409, 'nothing-to-change');
    await call('DELETE', `/products/${id}`);
    await problem(
      await call('POST', `/products/${id}/stock/restock`, { quantity: 1 }, keyed()),
      409,
      'product-discontinued',
    );
  });

  test('412 when If-Match names another version, with the current version', async () => {
    const { call } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id }));
    const body = await problem(
      await call('PUT', `/products/${id}/price`, { amount: 5, currency: 'EUR' }, { 'if-match': '"4"' }),
      412,
      'precondition-failed',
    );
    assert.equal(body.currentVersion, 1);
    const ok = await call('PUT', `/products/${id}/price`, { amount: 5, currency: 'EUR' }, { 'if-match': '"1"' });
    assert.equal(ok.status, 200);
  });

  test('an idempotent replay returns the original answer and appends nothing; another body is 422', async () => {
    const { call, store } = build();
    const key = randomUUID();
    const body = product();
    const first = await call('POST', '/products', body, { 'idempotency-key': key });
    const original = await first.json();
    const events = store.eventCount;
    const replay = await call('POST', '/products', body, { 'idempotency-key': key });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await replay.json(), original);
    assert.equal(store.eventCount, events);
    await problem(
      await call('POST', '/products', product(), { 'idempotency-key': key }),
      422,
      'idempotency-key-reused',
    );
  });

  test('a replayed rejection repeats the original problem', async () => {
    const { call } = build();
    const key = randomUUID();
    const path = `/products/${randomUUID()}/stock/restock`;
    const first = await problem(
      await call('POST', path, { quantity: 1 }, { 'idempotency-key': key }),
      404,
      'not-found',
    );
    const again = await call('POST', path, { quantity: 1 }, { 'idempotency-key': key });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await problem(again, 404, 'not-found'), first);
  });

  test('a stored 412 is not replayed to the corrected request: If-Match is part of the request', async () => {
    const { call } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id }));
    const key = randomUUID();
    const price = { amount: 5, currency: 'EUR' };
    await problem(
      await call('PUT', `/products/${id}/price`, price, { 'if-match': '"4"', 'idempotency-key': key }),
      412,
      'precondition-failed',
    );
    const replayed = await call('PUT', `/products/${id}/price`, price, { 'if-match': '"4"', 'idempotency-key': key });
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    await problem(replayed, 412, 'precondition-failed');
    await problem(
      await call('PUT', `/products/${id}/price`, price, { 'if-match': '"1"', 'idempotency-key': key }),
      422,
      'idempotency-key-reused',
    );
  });

  test('the request hash ignores key order and covers method, path, If-Match and body', () => {
    const base = requestHash('PUT', '/products/a/price', 1, { amount: 5, currency: 'EUR' });
    assert.equal(requestHash('PUT', '/products/a/price', 1, { currency: 'EUR', amount: 5 }), base);
    assert.notEqual(requestHash('PUT', '/products/a/price', 2, { amount: 5, currency: 'EUR' }), base);
    assert.notEqual(requestHash('PUT', '/products/a/price', undefined, { amount: 5, currency: 'EUR' }), base);
    assert.notEqual(requestHash('PUT', '/products/b/price', 1, { amount: 5, currency: 'EUR' }), base);
    assert.notEqual(requestHash('POST', '/products/a/price', 1, { amount: 5, currency: 'EUR' }), base);
    assert.notEqual(requestHash('PUT', '/products/a/price', 1, { amount: 6, currency: 'EUR' }), base);
    const nested = { price: { currency: 'EUR', amount: 5 }, sku: 'A' };
    assert.equal(
      requestHash('POST', '/products', undefined, nested),
      requestHash('POST', '/products', undefined, { sku: 'A', price: { amount: 5, currency: 'EUR' } }),
    );
  });

  test('409 for a key whose first request is still in flight', async () => {
    const { call } = build();
    const key = randomUUID();
    const body = product();
    const [a, b] = await Promise.all([
      call('POST', '/products', body, { 'idempotency-key': key }),
      call('POST', '/products', body, { 'idempotency-key': key }),
    ]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [201, 409]);
    const loser = a.status === 409 ? a : b;
    await problem(loser, 409, 'idempotency-key-in-flight');
  });
});

describe('restocks and reservations require an Idempotency-Key', () => {
  const routes = (id: string) =>
    [
      [`/products/${id}/stock/restock`, { quantity: 1 }],
      [`/products/${id}/stock/reservations`, { quantity: 1, reservationId: 'r-1' }],
    ] as const;

  test('without one: 400 idempotency-key-required pointing at the header and its docs, nothing appended', async () => {
    const { call, store } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id }));
    const [appends, events] = [store.appendCalls, store.eventCount];
    for (const [path, body] of routes(id)) {
      const response = await call('POST', path, body);
      assert.equal(response.headers.get('link'), '</docs>; rel="describedby"; type="text/html"', path);
      const answer = await problem(response, 400, 'idempotency-key-required');
      assert.deepEqual(answer.errors, [{ path: '/headers/idempotency-key', message: 'is required' }], path);
      assert.match(answer.detail as string, /apply twice/);
      assert.equal(answer.instance, path);
    }
    assert.equal(store.appendCalls, appends, 'nothing was dispatched to an append');
    assert.equal(store.eventCount, events, 'nothing was appended');
    const stream = (await (await call('GET', `/products/${id}/events`)).json()) as { items: unknown[] };
    assert.equal(stream.items.length, 1, 'the product still has its creation only');
  });

  test('the OpenAPI document marks the key required there, optional elsewhere, and lists the 400', async () => {
    const { app } = build();
    interface Operation {
      parameters: { name: string; in: string; required: boolean }[];
      responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }>;
    }
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const keyParam = (op: Operation | undefined) => op?.parameters.find((p) => p.name === 'Idempotency-Key');
    for (const path of ['/products/{id}/stock/restock', '/products/{id}/stock/reservations']) {
      const op = doc.paths[path]?.post;
      assert.equal(keyParam(op)?.required, true, path);
      const example = op?.responses['400']?.content?.['application/problem+json']?.examples?.[
        'idempotency-key-required'
      ]?.value as Record<string, unknown>;
      assert.equal(example.type, '/problems/idempotency-key-required', path);
      assert.deepEqual(example.errors, [{ path: '/headers/idempotency-key', message: 'is required' }]);
    }
    for (const [path, method] of [
      ['/products', 'post'],
      ['/products/{id}/price', 'put'],
      ['/products/{id}', 'patch'],
      ['/products/{id}', 'delete'],
    ] as const) {
      assert.equal(keyParam(doc.paths[path]?.[method])?.required, false, `${method} ${path}`);
    }
  });

  test('the other writes keep the key optional', async () => {
    const { call } = build();
    const id = randomUUID();
    assert.equal((await call('POST', '/products', product({ id }))).status, 201);
    assert.equal((await call('PUT', `/products/${id}/price`, { amount: 5, currency: 'EUR' })).status, 200);
    assert.equal((await call('PATCH', `/products/${id}`, { name: 'Cup' })).status, 200);
    assert.equal((await call('DELETE', `/products/${id}`)).status, 200);
  });

  // The order of checks: the token (401), the id in the path (422), the key (400 missing, 422
  // malformed), then the body (415, 413, 400, 422).
  test('the key is checked after the token and the id in the path, before the body', async () => {
    const { app, call, store } = build();
    const id = randomUUID();
    for (const [path] of routes(id)) {
      await problem(await app.request(path, { method: 'POST', body: '{' }), 401, 'unauthorized');
      const badId = path.replace(id, 'not-a-uuid');
      const idProblem = await problem(await call('POST', badId, '{'), 422, 'validation-failed');
      assert.equal((idProblem.errors as { path: string }[])[0]?.path, '/', badId);
      const noKey = 'idempotency-key-required';
      await problem(await call('POST', path, '{'), 400, noKey);
      await problem(await call('POST', path, 'quantity=1', { 'content-type': 'text/plain' }), 400, noKey);
      await problem(await call('POST', path, { quantity: 'x'.repeat(70_000) }), 400, noKey);
      await problem(await call('POST', path, { quantity: -1 }), 400, noKey);
      const malformed = await problem(
        await call('POST', path, '{', { 'idempotency-key': 'two words' }),
        422,
        'validation-failed',
      );
      assert.equal((malformed.errors as { path: string }[])[0]?.path, '/headers/idempotency-key');
      // With a key, the body's own errors.
      await problem(await call('POST', path, '{', keyed()), 400, 'invalid-json');
      await problem(
        await call('POST', path, 'quantity=1', { 'content-type': 'text/plain', ...keyed() }),
        415,
        'unsupported-media-type',
      );
      await problem(await call('POST', path, { quantity: 'x'.repeat(70_000) }, keyed()), 413, 'payload-too-large');
      await problem(await call('POST', path, { quantity: -1 }, keyed()), 422, 'validation-failed');
    }
    assert.equal(store.appendCalls, 0, 'nothing was written');
  });

  test('a retried reservation with the same key applies once: stock taken once, the retry replayed', async () => {
    const { call, store } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id, initialStock: 5 }));
    const key = { 'idempotency-key': randomUUID() };
    // No reservationId: the service generates one, and the replay answers with the first one.
    const first = await call('POST', `/products/${id}/stock/reservations`, { quantity: 2 }, key);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const original = (await first.json()) as { stock: number; reservationId: string };
    assert.equal(original.stock, 3);
    const events = store.eventCount;
    const retry = await call('POST', `/products/${id}/stock/reservations`, { quantity: 2 }, key);
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await retry.json(), original);
    assert.equal(store.eventCount, events, 'the retry appended nothing');
    const stream = (await (await call('GET', `/products/${id}/events`)).json()) as {
      items: { type: string; data: { stock?: number; reservationId?: string } }[];
    };
    const reserved = stream.items.filter((e) => e.type === 'StockReserved');
    assert.equal(reserved.length, 1, 'one reservation');
    assert.deepEqual(reserved[0]?.data, { quantity: 2, stock: 3, reservationId: original.reservationId });
    // A new key is a new reservation.
    const next = await call('POST', `/products/${id}/stock/reservations`, { quantity: 2 }, keyed());
    assert.equal(((await next.json()) as { stock: number }).stock, 1);
  });

  test('a retried restock with the same key applies once', async () => {
    const { call } = build();
    const id = randomUUID();
    await call('POST', '/products', product({ id, initialStock: 5 }));
    const key = keyed();
    const first = await call('POST', `/products/${id}/stock/restock`, { quantity: 4 }, key);
    assert.deepEqual(await first.json(), { id, version: 2, stock: 9 });
    const retry = await call('POST', `/products/${id}/stock/restock`, { quantity: 4 }, key);
    assert.equal(retry.status, 200);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await retry.json(), { id, version: 2, stock: 9 });
    const stream = (await (await call('GET', `/products/${id}/events`)).json()) as { items: unknown[] };
    assert.equal(stream.items.length, 2);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Envelope } from '../../../src/domain/envelope.ts';
import {
  type CommandService,
  type Reply,
  sendRequest,
  startCommandService,
  stopAll,
} from '../../support/command-service.ts';
import { sqlClient, uniqueName } from '../../support/env.ts';
import { eventCount, storedEvents } from '../../support/event-log.ts';

/**
 * The command API of DESIGN.md section 5 against the real command service, PostgreSQL and Kafka:
 * every route's success, every error status with its problem+json body, and that a rejected
 * request writes nothing to the event store.
 */

const sql = sqlClient();
let svc: CommandService;

before(async () => {
  svc = await startCommandService();
});
after(async () => {
  await stopAll();
  await sql.end({ timeout: 5 });
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const newProduct = (overrides: Record<string, unknown> = {}) => ({
  sku: uniqueName('sku'),
  name: 'Espresso cup',
  description: 'porcelain, 80 ml',
  price: { amount: 1299, currency: 'EUR' },
  initialStock: 10,
  ...overrides,
});

/**
 * Restocks and reservations require an Idempotency-Key (400 idempotency-key-required without
 * one): a fresh key per logical request, and only there, so the other routes keep being tested
 * without one.
 */
const withKey = (headers: Record<string, string> = {}) => ({ ...headers, 'idempotency-key': randomUUID() });
const keyFor = (path: string, headers: Record<string, string> = {}) =>
  /\/stock\/(?:restock|reservations)$/.test(path) ? withKey(headers) : headers;

async function createProduct(overrides: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  const res = await svc.request('POST', '/products', newProduct({ id, ...overrides }));
  assert.equal(res.status, 201, res.text);
  return id;
}

async function discontinuedProduct(): Promise<string> {
  const id = await createProduct();
  const res = await svc.request('DELETE', `/products/${id}`);
  assert.equal(res.status, 200, res.text);
  return id;
}

function assertProblem(res: Reply, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  assert.ok(body, 'a problem+json body');
  assert.equal(typeof body.type, 'string');
  assert.ok((body.type as string).endsWith(`/${code}`), `type ${body.type} ends with /${code}`);
  assert.equal(typeof body.title, 'string');
  assert.ok((body.title as string).length > 0, 'a title');
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  assert.ok((body.detail as string).length > 0, 'a detail');
}

function assertValidation(res: Reply, ...paths: string[]): void {
  assertProblem(res, 422, 'validation-failed');
  const errors = res.body.errors as { path: string; message: string }[];
  assert.ok(Array.isArray(errors) && errors.length > 0, `errors[] in ${res.text}`);
  for (const e of errors) {
    assert.equal(typeof e.path, 'string');
    assert.ok(e.path.startsWith('/'), `path ${e.path} is a JSON pointer`);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
  }
  for (const path of paths) {
    assert.ok(
      errors.some((e) => e.path === path),
      `an error at ${path} in ${JSON.stringify(errors)}`,
    );
  }
}

/** Runs a request that must be rejected and checks that the product's stream did not change. */
async function rejected(id: string, send: () => Promise<Reply>): Promise<Reply> {
  const before = await eventCount(sql, id);
  const res = await send();
  assert.ok(res.status >= 400, `expected a rejection, got ${res.status}: ${res.text}`);
  assert.equal(await eventCount(sql, id), before, `no event appended to ${id} by a ${res.status} answer`);
  return res;
}

async function skuOwners(sku: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from product_skus where sku = ${sku}`;
  return row?.n as number;
}

describe('successful writes', () => {
  test('POST /products with an id answers 201, Location, ETag "1" and {id, version: 1}', async () => {
    const id = randomUUID();
    const body = newProduct({ id });
    const res = await svc.request('POST', '/products', body);
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('location'), `/products/${id}`);
    assert.equal(res.headers.get('etag'), '"1"');
    assert.deepEqual(res.body, { id, version: 1 });
    const [created] = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.equal(created?.type, 'ProductCreated');
    assert.deepEqual(created?.data, {
      sku: body.sku,
      name: body.name,
      description: body.description,
      price: body.price,
      stock: 10,
    });
  });

  test('POST /products without an id generates a UUID; description and initialStock default to "" and 0', async () => {
    const sku = uniqueName('sku');
    const res = await svc.request('POST', '/products', {
      sku,
      name: 'Saucer',
      price: { amount: 500, currency: 'USD' },
    });
    assert.equal(res.status, 201, res.text);
    const id = res.body.id as string;
    assert.match(id, UUID);
    assert.equal(res.headers.get('location'), `/products/${id}`);
    assert.deepEqual(res.body, { id, version: 1 });
    const [created] = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.deepEqual(created?.data, {
      sku,
      name: 'Saucer',
      description: '',
      price: { amount: 500, currency: 'USD' },
      stock: 0,
    });
  });

  test('PUT /products/{id}/price answers 200 {id, version} with ETag and stores old and new price', async () => {
    const id = await createProduct();
    const res = await svc.request('PUT', `/products/${id}/price`, { amount: 1499, currency: 'EUR' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, version: 2 });
    assert.equal(res.headers.get('etag'), '"2"');
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.equal(events[1]?.type, 'ProductPriceChanged');
    assert.deepEqual(events[1]?.data, {
      oldPrice: { amount: 1299, currency: 'EUR' },
      newPrice: { amount: 1499, currency: 'EUR' },
    });
  });

  test('PUT the price a product already has answers 200 with the current version and appends nothing', async () => {
    const id = await createProduct();
    const res = await rejectedOrNot(id, () =>
      svc.request('PUT', `/products/${id}/price`, { amount: 1299, currency: 'EUR' }),
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, version: 1 });
    assert.equal(res.headers.get('etag'), '"1"');
  });

  test('PATCH /products/{id} answers 200 {id, version} and stores what changed', async () => {
    const id = await createProduct();
    const res = await svc.request('PATCH', `/products/${id}`, { name: 'Espresso cup, white' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, version: 2 });
    assert.equal(res.headers.get('etag'), '"2"');
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.equal(events[1]?.type, 'ProductDetailsUpdated');
    assert.deepEqual(events[1]?.data, {
      name: 'Espresso cup, white',
      description: 'porcelain, 80 ml',
      changed: ['name'],
    });
  });

  test('POST /products/{id}/stock/restock answers 200 {id, version, stock}', async () => {
    const id = await createProduct();
    const res = await svc.request('POST', `/products/${id}/stock/restock`, { quantity: 5 }, withKey());
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, version: 2, stock: 15 });
    assert.equal(res.headers.get('etag'), '"2"');
  });

  test('POST /products/{id}/stock/reservations answers 201 {id, version, stock, reservationId}', async () => {
    const id = await createProduct();
    const given = await svc.request(
      'POST',
      `/products/${id}/stock/reservations`,
      { quantity: 3, reservationId: 'order-42' },
      withKey(),
    );
    assert.equal(given.status, 201, given.text);
    assert.deepEqual(given.body, { id, version: 2, stock: 7, reservationId: 'order-42' });
    assert.equal(given.headers.get('etag'), '"2"');
    const generated = await svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 7 }, withKey());
    assert.equal(generated.status, 201, generated.text);
    assert.equal(generated.body.stock, 0);
    assert.equal(generated.body.version, 3);
    assert.match(generated.body.reservationId, UUID);
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.deepEqual(events[1]?.data, { quantity: 3, stock: 7, reservationId: 'order-42' });
    assert.deepEqual(events[2]?.data, { quantity: 7, stock: 0, reservationId: generated.body.reservationId });
  });

  test('DELETE /products/{id} discontinues: 200 {id, version}', async () => {
    const id = await createProduct();
    const res = await svc.request('DELETE', `/products/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, version: 2 });
    assert.equal(res.headers.get('etag'), '"2"');
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.equal(events[1]?.type, 'ProductDiscontinued');
  });

  test('If-Match with the current version lets the write through', async () => {
    const id = await createProduct();
    const res = await svc.request(
      'PUT',
      `/products/${id}/price`,
      { amount: 999, currency: 'EUR' },
      { 'if-match': '"1"' },
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, version: 2 });
  });

  test('GET /products/{id}/events returns the envelopes in version order with ETag and the correlation id', async () => {
    const id = await createProduct();
    const correlation = uniqueName('corr');
    const restocked = await svc.request(
      'POST',
      `/products/${id}/stock/restock`,
      { quantity: 2 },
      withKey({ 'x-correlation-id': correlation }),
    );
    assert.equal(restocked.status, 200, restocked.text);
    const res = await svc.request('GET', `/products/${id}/events`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('etag'), '"2"');
    const items = res.body.items as (Envelope & { metadata: Record<string, string> })[];
    assert.deepEqual(
      items.map((e) => [e.type, e.version]),
      [
        ['ProductCreated', 1],
        ['ProductRestocked', 2],
      ],
    );
    for (const e of items) {
      assert.deepEqual(Object.keys(e).sort(), [
        'aggregateId',
        'data',
        'eventId',
        'metadata',
        'occurredAt',
        'schemaVersion',
        'type',
        'version',
      ]);
      assert.match(e.eventId, UUID_V7);
      assert.equal(e.aggregateId, id);
      assert.equal(e.schemaVersion, 1);
      assert.ok(!Number.isNaN(Date.parse(e.occurredAt)));
      assert.match(e.metadata.commandId, UUID);
      assert.equal(typeof e.metadata.correlationId, 'string');
      assert.equal(typeof e.metadata.causationId, 'string');
    }
    assert.equal(items[1]?.metadata.correlationId, correlation);
    assert.deepEqual(items[1]?.data, { quantity: 2, stock: 12 });
  });

  test('health, metrics and OpenAPI routes stay open without a token', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) {
      const res = await sendRequest(svc.url, undefined, 'GET', path);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
    }
  });
});

/** For a request that may or may not write (an equal price): checks it does not. */
async function rejectedOrNot(id: string, send: () => Promise<Reply>): Promise<Reply> {
  const before = await eventCount(sql, id);
  const res = await send();
  assert.equal(await eventCount(sql, id), before, 'no event appended');
  return res;
}

describe('rejected requests answer problem+json and write nothing', () => {
  test('400 when the body is not parseable JSON', async () => {
    const id = await createProduct();
    const json = { 'content-type': 'application/json' };
    for (const [method, path, text] of [
      ['PUT', `/products/${id}/price`, '{"amount": 10, "currency": "EUR"'],
      ['PATCH', `/products/${id}`, "{name: 'x'}"],
      ['POST', `/products/${id}/stock/restock`, '{"quantity": 1,}'],
      ['POST', `/products/${id}/stock/reservations`, ''],
      ['POST', '/products', `{"id": "${id}", "sku": "x", `],
    ] as const) {
      assertProblem(await rejected(id, () => svc.request(method, path, text, keyFor(path, json))), 400, 'invalid-json');
    }
  });

  test('401 without a token, with a wrong token, and with another auth scheme; the answer says Bearer', async () => {
    const id = await createProduct();
    const createId = randomUUID();
    const cases: [string, string, unknown][] = [
      ['POST', '/products', newProduct({ id: createId })],
      ['PUT', `/products/${id}/price`, { amount: 1, currency: 'EUR' }],
      ['PATCH', `/products/${id}`, { name: 'stolen' }],
      ['POST', `/products/${id}/stock/restock`, { quantity: 1 }],
      ['POST', `/products/${id}/stock/reservations`, { quantity: 1 }],
      ['DELETE', `/products/${id}`, undefined],
      ['GET', `/products/${id}/events`, undefined],
    ];
    for (const authorization of [undefined, 'Bearer not-the-token-0123456789', `Basic ${svc.token}`, 'Bearer']) {
      for (const [method, path, body] of cases) {
        const res = await rejected(id, () => svc.request(method, path, body, { authorization }));
        assertProblem(res, 401, 'unauthorized');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    }
    assert.equal(await eventCount(sql, createId), 0, 'the unauthorized create wrote nothing');
  });

  test('404 for every command on an unknown product, and for the events of an unknown product', async () => {
    const id = randomUUID();
    for (const [method, path, body] of [
      ['PUT', `/products/${id}/price`, { amount: 100, currency: 'EUR' }],
      ['PATCH', `/products/${id}`, { name: 'ghost' }],
      ['POST', `/products/${id}/stock/restock`, { quantity: 1 }],
      ['POST', `/products/${id}/stock/reservations`, { quantity: 1 }],
      ['DELETE', `/products/${id}`, undefined],
      ['GET', `/products/${id}/events`, undefined],
    ] as const) {
      assertProblem(await rejected(id, () => svc.request(method, path, body, keyFor(path))), 404, 'not-found');
    }
    assert.equal(await eventCount(sql, id), 0);
  });

  test('409 sku-taken when another product holds the SKU; the SKU stays with its owner', async () => {
    const sku = uniqueName('sku');
    const owner = await createProduct({ sku });
    const other = randomUUID();
    const res = await rejected(other, () => svc.request('POST', '/products', newProduct({ id: other, sku })));
    assertProblem(res, 409, 'sku-taken');
    const [row] = await sql`select aggregate_id from product_skus where sku = ${sku}`;
    assert.equal(row?.aggregate_id, owner);
    assert.equal(await eventCount(sql, owner), 1);
  });

  test('409 already-exists when the id is taken; the second SKU is not claimed', async () => {
    const id = await createProduct();
    const sku = uniqueName('sku');
    assertProblem(
      await rejected(id, () => svc.request('POST', '/products', newProduct({ id, sku }))),
      409,
      'already-exists',
    );
    assert.equal(await skuOwners(sku), 0);
  });

  test('409 insufficient-stock when a reservation asks for more than the stock', async () => {
    const id = await createProduct({ initialStock: 2 });
    const res = await rejected(id, () =>
      svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 3 }, withKey()),
    );
    assertProblem(res, 409, 'insufficient-stock');
  });

  test('409 product-discontinued for every change to a discontinued product, including a second DELETE', async () => {
    const id = await discontinuedProduct();
    for (const [method, path, body] of [
      ['PUT', `/products/${id}/price`, { amount: 100, currency: 'EUR' }],
      ['PATCH', `/products/${id}`, { name: 'revived' }],
      ['POST', `/products/${id}/stock/restock`, { quantity: 1 }],
      ['POST', `/products/${id}/stock/reservations`, { quantity: 1 }],
      ['DELETE', `/products/${id}`, undefined],
    ] as const) {
      assertProblem(
        await rejected(id, () => svc.request(method, path, body, keyFor(path))),
        409,
        'product-discontinued',
      );
    }
  });

  test('409 nothing-to-change for an empty PATCH and for one that repeats the current details', async () => {
    const id = await createProduct();
    assertProblem(await rejected(id, () => svc.request('PATCH', `/products/${id}`, {})), 409, 'nothing-to-change');
    const same = { name: 'Espresso cup', description: 'porcelain, 80 ml' };
    assertProblem(await rejected(id, () => svc.request('PATCH', `/products/${id}`, same)), 409, 'nothing-to-change');
  });

  test('412 when If-Match names another version; the body and ETag carry the current version', async () => {
    const id = await createProduct();
    const restocked = await svc.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, withKey());
    assert.equal(restocked.status, 200, restocked.text);
    for (const ifMatch of ['"1"', '"7"', 'W/"0"']) {
      const res = await rejected(id, () =>
        svc.request('PUT', `/products/${id}/price`, { amount: 1, currency: 'EUR' }, { 'if-match': ifMatch }),
      );
      assertProblem(res, 412, 'precondition-failed');
      assert.equal(res.body.currentVersion, 2);
      assert.equal(res.headers.get('etag'), '"2"');
    }
    const del = await rejected(id, () => svc.request('DELETE', `/products/${id}`, undefined, { 'if-match': '"1"' }));
    assertProblem(del, 412, 'precondition-failed');
  });

  test('413 for a body over 64 KiB, with a Content-Length and streamed without one', async () => {
    const id = await createProduct();
    const big = JSON.stringify({ name: 'x', description: 'd'.repeat(70 * 1024) });
    assertProblem(
      await rejected(id, () => svc.request('PATCH', `/products/${id}`, big, { 'content-type': 'application/json' })),
      413,
      'payload-too-large',
    );
    const createId = randomUUID();
    const bigCreate = JSON.stringify(newProduct({ id: createId, description: 'd'.repeat(65 * 1024) }));
    assertProblem(
      await rejected(createId, () =>
        svc.request('POST', '/products', bigCreate, { 'content-type': 'application/json' }),
      ),
      413,
      'payload-too-large',
    );

    const streamed = await rejected(id, async () => {
      const chunk = new TextEncoder().encode(`{"name": "x", "description": "${'d'.repeat(8 * 1024)}`);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 12) {
            controller.enqueue(new TextEncoder().encode('"}'));
            controller.close();
            return;
          }
          sent += 1;
          controller.enqueue(sent === 1 ? chunk : new TextEncoder().encode('d'.repeat(8 * 1024)));
        },
      });
      const response = await fetch(`${svc.url}/products/${id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
        signal: AbortSignal.timeout(10_000),
      } as RequestInit);
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    });
    assertProblem(streamed, 413, 'payload-too-large');
  });

  test('a 413 that leaves the rest of a streamed body unread says Connection: close, so no client reuses the socket', async () => {
    const id = await createProduct();
    const socket = connect(svc.port, '127.0.0.1');
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    socket.write(
      `PATCH /products/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${svc.token}\r\n` +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    socket.write(chunk('{"name": "x", "description": "'));
    for (let i = 0; i < 12 && !socket.destroyed; i++) {
      socket.write(chunk('d'.repeat(8192)));
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!socket.destroyed) socket.write(`${chunk('"}')}0\r\n\r\n`);
    const outcome = await Promise.race([
      closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('open'), 5000)),
    ]);
    socket.destroy();
    const head = received.split('\r\n\r\n')[0] ?? '';
    assert.match(head, /^HTTP\/1\.1 413 /, received);
    if (outcome === 'closed')
      assert.match(head, /^connection: close$/im, `the server closed the socket, so it must say so:\n${head}`);
    assert.equal(await eventCount(sql, id), 1);
  });

  test('415 when the body is not declared as JSON', async () => {
    const id = await createProduct();
    const body = JSON.stringify({ quantity: 1 });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await rejected(id, () =>
        svc.request('POST', `/products/${id}/stock/restock`, body, withKey({ 'content-type': type })),
      );
      assertProblem(res, 415, 'unsupported-media-type');
    }
    const untyped = await rejected(id, async () => {
      const response = await fetch(`${svc.url}/products/${id}/stock/restock`, {
        method: 'POST',
        headers: withKey({ authorization: `Bearer ${svc.token}` }),
        body: new TextEncoder().encode(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    });
    assertProblem(untyped, 415, 'unsupported-media-type');
  });

  test('422 for schema violations: unknown field, unsafe integer, non-UUID id, bad currency, bad quantity, operator objects', async () => {
    const id = await createProduct();
    const json = { 'content-type': 'application/json' };
    const createId = randomUUID();
    const cases: { name: string; method: string; path: string; body: unknown; raw?: string; paths: string[] }[] = [
      {
        name: 'unknown field on create',
        method: 'POST',
        path: '/products',
        body: newProduct({ id: createId, colour: 'red' }),
        paths: ['/colour'],
      },
      {
        name: 'unknown field on restock',
        method: 'POST',
        path: `/products/${id}/stock/restock`,
        body: { quantity: 1, note: 'x' },
        paths: ['/note'],
      },
      {
        name: 'unknown field in price',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: 1, currency: 'EUR', tax: 1 },
        paths: ['/tax'],
      },
      {
        name: 'unsafe integer amount',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: undefined,
        raw: '{"amount": 9007199254740993, "currency": "EUR"}',
        paths: ['/amount'],
      },
      {
        name: 'unsafe integer quantity',
        method: 'POST',
        path: `/products/${id}/stock/restock`,
        body: undefined,
        raw: '{"quantity": 9007199254740993}',
        paths: ['/quantity'],
      },
      {
        name: 'unsafe integer initial stock',
        method: 'POST',
        path: '/products',
        body: undefined,
        raw: JSON.stringify(newProduct({ id: createId, initialStock: 1 })).replace(
          '"initialStock":1',
          '"initialStock":9007199254740993',
        ),
        paths: ['/initialStock'],
      },
      {
        name: 'fractional amount',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: 12.5, currency: 'EUR' },
        paths: ['/amount'],
      },
      {
        name: 'zero amount',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: 0, currency: 'EUR' },
        paths: ['/amount'],
      },
      {
        name: 'amount as a string',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: '100', currency: 'EUR' },
        paths: ['/amount'],
      },
      {
        name: 'non-UUID id in the body',
        method: 'POST',
        path: '/products',
        body: newProduct({ id: 'product-1' }),
        paths: ['/id'],
      },
      {
        name: 'lower-case currency',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: 1, currency: 'eur' },
        paths: ['/currency'],
      },
      {
        name: 'four-letter currency',
        method: 'POST',
        path: '/products',
        body: newProduct({ id: createId, price: { amount: 1, currency: 'EURO' } }),
        paths: ['/price/currency'],
      },
      {
        name: 'currency with a digit',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: 1, currency: 'E1R' },
        paths: ['/currency'],
      },
      {
        name: 'negative restock',
        method: 'POST',
        path: `/products/${id}/stock/restock`,
        body: { quantity: -5 },
        paths: ['/quantity'],
      },
      {
        name: 'zero restock',
        method: 'POST',
        path: `/products/${id}/stock/restock`,
        body: { quantity: 0 },
        paths: ['/quantity'],
      },
      {
        name: 'negative reservation',
        method: 'POST',
        path: `/products/${id}/stock/reservations`,
        body: { quantity: -1 },
        paths: ['/quantity'],
      },
      {
        name: 'negative initial stock',
        method: 'POST',
        path: '/products',
        body: newProduct({ id: createId, initialStock: -1 }),
        paths: ['/initialStock'],
      },
      {
        name: 'operator object as name',
        method: 'PATCH',
        path: `/products/${id}`,
        body: { name: { $gt: '' } },
        paths: ['/name'],
      },
      {
        name: 'operator object as amount',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: { amount: { $gt: 0 }, currency: 'EUR' },
        paths: ['/amount'],
      },
      {
        name: 'minPrice-style operator as quantity',
        method: 'POST',
        path: `/products/${id}/stock/reservations`,
        body: { quantity: { $gte: 1 } },
        paths: ['/quantity'],
      },
      {
        name: 'operator object as SKU',
        method: 'POST',
        path: '/products',
        body: newProduct({ id: createId, sku: { $ne: null } }),
        paths: ['/sku'],
      },
      {
        name: 'missing price',
        method: 'POST',
        path: '/products',
        body: { id: createId, sku: uniqueName('sku'), name: 'x' },
        paths: ['/price'],
      },
      { name: 'empty name', method: 'PATCH', path: `/products/${id}`, body: { name: '' }, paths: ['/name'] },
      {
        name: 'name over 200 characters',
        method: 'PATCH',
        path: `/products/${id}`,
        body: { name: 'n'.repeat(201) },
        paths: ['/name'],
      },
      {
        name: 'an array body',
        method: 'POST',
        path: `/products/${id}/stock/restock`,
        body: [{ quantity: 1 }],
        paths: [],
      },
      {
        name: 'a null body',
        method: 'POST',
        path: `/products/${id}/stock/restock`,
        body: undefined,
        raw: 'null',
        paths: [],
      },
    ];
    for (const c of cases) {
      const target = c.path === '/products' ? createId : id;
      const res = await rejected(target, () =>
        c.raw !== undefined
          ? svc.request(c.method, c.path, c.raw, keyFor(c.path, json))
          : svc.request(c.method, c.path, c.body, keyFor(c.path)),
      );
      try {
        assertValidation(res, ...c.paths);
      } catch (error) {
        throw new Error(`${c.name}: ${(error as Error).message}`);
      }
    }
    assert.equal(await eventCount(sql, createId), 0);
    assert.equal(await eventCount(sql, id), 1);
  });

  test('422 for a non-UUID product id in the path of every route', async () => {
    for (const [method, path, body] of [
      ['PUT', '/products/not-a-uuid/price', { amount: 100, currency: 'EUR' }],
      ['PATCH', '/products/123', { name: 'x' }],
      ['POST', '/products/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz/stock/restock', { quantity: 1 }],
      ['POST', '/products/%7B%22%24gt%22%3A1%7D/stock/reservations', { quantity: 1 }],
      ['DELETE', '/products/abc', undefined],
      ['GET', '/products/abc/events', undefined],
    ] as const) {
      assertValidation(await svc.request(method, path, body));
    }
  });

  test('422 for a malformed If-Match or Idempotency-Key header', async () => {
    const id = await createProduct();
    const badIfMatch = await rejected(id, () =>
      svc.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, withKey({ 'if-match': 'version one' })),
    );
    assertValidation(badIfMatch, '/headers/if-match');
    const badKey = await rejected(id, () =>
      svc.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, { 'idempotency-key': 'two words' }),
    );
    assertValidation(badKey, '/headers/idempotency-key');
  });

  test('400 idempotency-key-required for a restock or a reservation without a key, before the body is read', async () => {
    const id = await createProduct();
    for (const path of [`/products/${id}/stock/restock`, `/products/${id}/stock/reservations`]) {
      for (const [body, headers] of [
        [{ quantity: 1 }, {}],
        // The key is checked before the body: a bad body without a key is still this 400.
        ['{"quantity": 1,}', { 'content-type': 'application/json' }],
        [{ quantity: -1 }, {}],
        [JSON.stringify({ quantity: 1 }), { 'content-type': 'text/plain' }],
      ] as const) {
        const res = await rejected(id, () => svc.request('POST', path, body, headers));
        assertProblem(res, 400, 'idempotency-key-required');
        assert.deepEqual(res.body.errors, [{ path: '/headers/idempotency-key', message: 'is required' }]);
        assert.match(res.body.detail, /retried restock or reservation .* apply twice/);
        assert.equal(res.headers.get('link'), '</docs>; rel="describedby"; type="text/html"');
      }
    }
    // After the token and the id in the path.
    assertProblem(
      await svc.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, { authorization: undefined }),
      401,
      'unauthorized',
    );
    assertValidation(await svc.request('POST', '/products/not-a-uuid/stock/reservations', { quantity: 1 }), '/');
    assert.equal(await eventCount(sql, id), 1);
  });

  test('a rejected create claims no SKU', async () => {
    const sku = uniqueName('sku');
    const id = randomUUID();
    const res = await rejected(id, () =>
      svc.request('POST', '/products', newProduct({ id, sku, price: { amount: -1, currency: 'EUR' } })),
    );
    assertValidation(res, '/price/amount');
    assert.equal(await skuOwners(sku), 0);
  });
});

describe('idempotency', () => {
  test('a replayed create answers the original 201, Location and body with Idempotent-Replayed and appends nothing', async () => {
    const key = uniqueName('key');
    const body = newProduct();
    const first = await svc.request('POST', '/products', body, { 'idempotency-key': key });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const id = first.body.id as string;
    for (let i = 0; i < 2; i++) {
      const replay = await rejectedOrNot(id, () => svc.request('POST', '/products', body, { 'idempotency-key': key }));
      assert.equal(replay.status, 201, replay.text);
      assert.deepEqual(replay.body, first.body);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.headers.get('location'), `/products/${id}`);
      assert.equal(replay.headers.get('etag'), '"1"');
    }
    assert.equal(await eventCount(sql, id), 1);
  });

  test('a replayed reservation answers the original body even after the product moved on', async () => {
    const id = await createProduct();
    const key = uniqueName('key');
    const first = await svc.request(
      'POST',
      `/products/${id}/stock/reservations`,
      { quantity: 2 },
      { 'idempotency-key': key },
    );
    assert.equal(first.status, 201, first.text);
    const restocked = await svc.request('POST', `/products/${id}/stock/restock`, { quantity: 5 }, withKey());
    assert.equal(restocked.status, 200, restocked.text);
    const replay = await rejectedOrNot(id, () =>
      svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 2 }, { 'idempotency-key': key }),
    );
    assert.equal(replay.status, 201, replay.text);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    assert.equal(replay.headers.get('etag'), '"2"');
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.deepEqual(
      events.map((e) => e.type),
      ['ProductCreated', 'StockReserved', 'ProductRestocked'],
    );
    assert.equal(events[1]?.metadata.idempotencyKey, key);
  });

  test('a replayed rejection answers the original problem with Idempotent-Replayed', async () => {
    const id = await createProduct({ initialStock: 1 });
    const key = uniqueName('key');
    const first = await svc.request(
      'POST',
      `/products/${id}/stock/reservations`,
      { quantity: 5 },
      { 'idempotency-key': key },
    );
    assertProblem(first, 409, 'insufficient-stock');
    const restocked = await svc.request('POST', `/products/${id}/stock/restock`, { quantity: 10 }, withKey());
    assert.equal(restocked.status, 200, restocked.text);
    const replay = await rejectedOrNot(id, () =>
      svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 5 }, { 'idempotency-key': key }),
    );
    assertProblem(replay, 409, 'insufficient-stock');
    assert.deepEqual(replay.body, first.body);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });

  test('422 when a key is reused with another body or on another route; nothing is appended', async () => {
    const id = await createProduct();
    const key = uniqueName('key');
    const first = await svc.request(
      'POST',
      `/products/${id}/stock/restock`,
      { quantity: 1 },
      { 'idempotency-key': key },
    );
    assert.equal(first.status, 200, first.text);
    const otherBody = await rejected(id, () =>
      svc.request('POST', `/products/${id}/stock/restock`, { quantity: 2 }, { 'idempotency-key': key }),
    );
    assertProblem(otherBody, 422, 'idempotency-key-reused');
    const otherRoute = await rejected(id, () =>
      svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 1 }, { 'idempotency-key': key }),
    );
    assertProblem(otherRoute, 422, 'idempotency-key-reused');
    assert.equal(await eventCount(sql, id), 2);
  });

  test('two concurrent requests with one key: one wins, the other answers 409 in flight or replays it', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await createProduct({ initialStock: 100 });
      const key = uniqueName('key');
      const send = () =>
        svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 1 }, { 'idempotency-key': key });
      const answers = await Promise.all([send(), send()]);
      assertOneWinner(answers);
      const events = (await storedEvents(sql, [id])).get(id) ?? [];
      assert.equal(events.filter((e) => e.type === 'StockReserved').length, 1, 'one reservation stored');
    }
  });

  test('many concurrent requests with one key while the product is busy store exactly one event', async () => {
    const id = await createProduct({ initialStock: 1000 });
    const key = uniqueName('key');
    const busy = Array.from({ length: 40 }, () =>
      svc.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, withKey()),
    );
    const keyed = Array.from({ length: 10 }, () =>
      svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 1 }, { 'idempotency-key': key }),
    );
    const [answers] = await Promise.all([Promise.all(keyed), Promise.all(busy)]);
    assertOneWinner(answers);
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.equal(events.filter((e) => e.type === 'StockReserved').length, 1, 'one reservation stored');
  });

  test('the same key sent concurrently for two different products is committed once', async () => {
    const a = await createProduct();
    const b = await createProduct();
    const key = uniqueName('key');
    const answers = await Promise.all([
      svc.request('POST', `/products/${a}/stock/restock`, { quantity: 1 }, { 'idempotency-key': key }),
      svc.request('POST', `/products/${b}/stock/restock`, { quantity: 1 }, { 'idempotency-key': key }),
    ]);
    const written = (await eventCount(sql, a)) - 1 + ((await eventCount(sql, b)) - 1);
    assert.equal(written, 1, `one restock stored, answers ${answers.map((r) => r.status)}`);
    const ok = answers.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') !== 'true');
    assert.equal(ok.length, 1);
    for (const other of answers.filter((r) => r !== ok[0])) {
      assert.ok(
        other.status === 409 || other.status === 422 || other.headers.get('idempotent-replayed') === 'true',
        `the other answer is 409, 422 or a replay: ${other.status} ${other.text}`,
      );
    }
  });
});

function assertOneWinner(answers: Reply[]): void {
  const originals = answers.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') !== 'true');
  assert.equal(
    originals.length,
    1,
    `one original answer among ${answers.map((r) => `${r.status} ${r.text}`).join(' | ')}`,
  );
  const winner = originals[0] as Reply;
  for (const other of answers) {
    if (other === winner) continue;
    if (other.status === 409) {
      assertProblem(other, 409, 'idempotency-key-in-flight');
    } else {
      assert.equal(other.status, 201, other.text);
      assert.equal(other.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(other.body, winner.body);
    }
  }
}

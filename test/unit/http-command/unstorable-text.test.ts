import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CommandTask, TaskResult } from '../../../src/actors/protocol.ts';
import { isStorableText, STORABLE_TEXT_PATTERN } from '../../../src/domain/text.ts';
import { UNPRINTABLE_MESSAGE } from '../../../src/domain/validate-input.ts';
import { commandApp } from '../../../src/http/command/app.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';

/**
 * Text PostgreSQL cannot store (NUL, unpaired surrogates) is a 422 at the HTTP edge, naming the
 * field, and never reaches an actor: one such command used to fail every command of its group
 * commit. No actors here: `dispatch` only records what would have been sent.
 */

const token = 'unit-test-token-0123456789';
const MESSAGE = 'must not contain NUL or unpaired surrogate characters';

function build() {
  const dispatched: CommandTask[] = [];
  // A variable, not a literal in the call: the deps type is being reshaped by other work, and
  // extra properties of a variable are not an error.
  const deps = {
    tokens: [token],
    logger: createLogger('test', 'silent'),
    registry: createRegistry('test'),
    readiness: {},
    dispatch: async (task: CommandTask) => {
      dispatched.push(task);
      return { outcome: { ok: true, version: 1, stock: 0 }, batchSize: 1 } as TaskResult;
    },
    findIdempotencyRecord: async () => undefined,
    readEvents: async () => [],
  };
  const app = commandApp(deps);
  const call = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { app, call, dispatched };
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors: { path: string; message: string }[];
}

/** Every string of a JSON value, keys included. */
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, child]) => [key, ...strings(child)])
      : [];

/**
 * A 422 validation-failed problem that is itself storable, well-formed text: no NUL, and no lone
 * surrogate, which strict (I-JSON) parsers refuse even as a `\ud800` escape.
 */
async function validationFailed(response: Response): Promise<Problem> {
  assert.equal(response.status, 422);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await response.json()) as Problem;
  assert.equal(body.type, '/problems/validation-failed');
  assert.equal(body.status, 422);
  for (const text of strings(body)) assert.ok(isStorableText(text), JSON.stringify(text));
  return body;
}

const id = randomUUID();
const create = (extra: Record<string, unknown>) => ({
  sku: 'MUG-001',
  name: 'Mug',
  price: { amount: 1200, currency: 'EUR' },
  ...extra,
});

const NUL = '\u0000';
const HIGH = '\ud800';
const LOW = '\udc00';

describe('text the stores cannot hold is a 422 at the HTTP edge', () => {
  const cases: [string, string, string, unknown, string][] = [
    ['a NUL in the sku', 'POST', '/products', create({ sku: `MUG${NUL}1` }), '/sku'],
    ['a lone high surrogate in the sku', 'POST', '/products', create({ sku: HIGH }), '/sku'],
    ['a NUL in the name', 'POST', '/products', create({ name: `a${NUL}b` }), '/name'],
    ['a lone high surrogate in the name', 'POST', '/products', create({ name: `Mug ${HIGH}` }), '/name'],
    ['a lone low surrogate in the name', 'POST', '/products', create({ name: `${LOW}Mug` }), '/name'],
    ['a NUL in the description', 'POST', '/products', create({ description: NUL }), '/description'],
    ['a lone surrogate in the description', 'POST', '/products', create({ description: `x${LOW}` }), '/description'],
    [
      'a NUL in the currency',
      'POST',
      '/products',
      create({ price: { amount: 1, currency: `EU${NUL}` } }),
      '/price/currency',
    ],
    [
      'a lone surrogate in a new price',
      'PUT',
      `/products/${id}/price`,
      { amount: 1, currency: `${HIGH}UR` },
      '/currency',
    ],
    ['a NUL in a new name', 'PATCH', `/products/${id}`, { name: `Cup${NUL}` }, '/name'],
    ['a lone surrogate in a new description', 'PATCH', `/products/${id}`, { description: LOW }, '/description'],
    [
      'a NUL in a reservation id',
      'POST',
      `/products/${id}/stock/reservations`,
      { quantity: 1, reservationId: `r-${NUL}` },
      '/reservationId',
    ],
    [
      'a lone surrogate in a reservation id',
      'POST',
      `/products/${id}/stock/reservations`,
      { quantity: 1, reservationId: HIGH },
      '/reservationId',
    ],
  ];
  for (const [what, method, path, body, field] of cases) {
    test(`${what}: 422 naming ${field}, nothing dispatched`, async () => {
      const { call, dispatched } = build();
      // With a key: restocks and reservations require one, and the body is checked after it.
      const problem = await validationFailed(await call(method, path, body, { 'idempotency-key': randomUUID() }));
      assert.deepEqual(problem.errors, [{ path: field, message: MESSAGE }]);
      assert.equal(dispatched.length, 0);
    });
  }

  test('the escapes a client writes (\\u0000, \\ud800) are what is checked, as JSON.parse decodes them', async () => {
    const { call, dispatched } = build();
    for (const written of ['\\u0000', '\\ud800', '\\uDFFF']) {
      const raw = `{"sku":"MUG-001","name":"a${written}b","price":{"amount":1200,"currency":"EUR"}}`;
      const problem = await validationFailed(await call('POST', '/products', raw));
      assert.deepEqual(problem.errors, [{ path: '/name', message: MESSAGE }], raw);
    }
    assert.equal(dispatched.length, 0);
  });

  test('an id holding a NUL is a 422 that quotes it only escaped', async () => {
    const { call, dispatched } = build();
    const problem = await validationFailed(await call('POST', '/products', create({ id: `${NUL}${HIGH}` })));
    assert.deepEqual(problem.errors, [{ path: '/id', message: MESSAGE }]);
    const inPath = await validationFailed(await call('PUT', '/products/%00/price', { amount: 1, currency: 'EUR' }));
    assert.equal(inPath.errors[0]?.message, MESSAGE);
    assert.equal(dispatched.length, 0);
  });

  test('an unknown field whose name holds NUL or a lone surrogate is named with \\uXXXX escapes', async () => {
    const { call, dispatched } = build();
    const problem = await validationFailed(
      await call('POST', '/products', create({ [`na${NUL}me`]: 'x', [HIGH]: 1, [`a${LOW}/b~`]: 2 })),
    );
    assert.deepEqual(
      problem.errors.map((e) => [e.path, e.message]),
      [
        ['/na\\u0000me', 'is not an allowed field'],
        ['/\\ud800', 'is not an allowed field'],
        ['/a\\udc00~1b~0', 'is not an allowed field'],
      ],
    );
    const nested = await validationFailed(
      await call('PUT', `/products/${id}/price`, { amount: 1, currency: 'EUR', [NUL]: 1 }),
    );
    assert.deepEqual(nested.errors, [{ path: '/\\u0000', message: 'is not an allowed field' }]);
    assert.equal(dispatched.length, 0);
  });

  test('Idempotency-Key and If-Match take visible ASCII only (NUL and UTF-16 never get past Headers)', async () => {
    const { call, dispatched } = build();
    const key = await validationFailed(
      await call('POST', '/products', create({}), { 'idempotency-key': 'key-\u00e9' }),
    );
    assert.equal(key.errors[0]?.path, '/headers/idempotency-key');
    const ifMatch = await validationFailed(
      await call('PATCH', `/products/${id}`, { name: 'Cup' }, { 'if-match': '"1\u00e9"' }),
    );
    assert.equal(ifMatch.errors[0]?.path, '/headers/if-match');
    assert.throws(() => new Headers({ 'idempotency-key': `key${NUL}` }), TypeError);
    assert.throws(() => new Headers({ 'idempotency-key': `key${HIGH}` }), TypeError);
    assert.equal(dispatched.length, 0);
  });

  test('a reservation id longer than the documented 200 characters is a 422', async () => {
    const { call, dispatched } = build();
    const path = `/products/${id}/stock/reservations`;
    const key = () => ({ 'idempotency-key': randomUUID() });
    const problem = await validationFailed(
      await call('POST', path, { quantity: 1, reservationId: 'r'.repeat(201) }, key()),
    );
    assert.equal(problem.errors[0]?.path, '/reservationId');
    assert.notEqual((await call('POST', path, { quantity: 1, reservationId: 'r'.repeat(200) }, key())).status, 422);
    assert.equal(dispatched.length, 1);
  });

  test('any other Unicode text goes through unchanged: astral characters, other control characters', async () => {
    const { call, dispatched } = build();
    const text = { sku: 'MUG-\ud83d\ude00', name: 'Mug \ud83c\udf75', description: 'tab\t\u0001\u007f\ufffd' };
    const response = await call('POST', '/products', create(text));
    assert.notEqual(response.status, 422, await response.clone().text());
    assert.equal(dispatched.length, 1);
    const command = dispatched[0]?.command;
    assert.equal(command?.type, 'CreateProduct');
    assert.deepEqual(command?.data, { ...create(text) });
  });

  test('the OpenAPI document gives every text field the storable-text pattern', async () => {
    const { app } = build();
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
    };
    interface Schema {
      properties?: Record<string, Schema>;
      pattern?: string;
      maxLength?: number;
    }
    const bodySchema = (path: string, method: string) =>
      doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
    const create = bodySchema('/products', 'post')?.properties ?? {};
    for (const field of ['sku', 'name', 'description']) assert.equal(create[field]?.pattern, STORABLE_TEXT_PATTERN);
    const update = bodySchema('/products/{id}', 'patch')?.properties ?? {};
    for (const field of ['name', 'description']) assert.equal(update[field]?.pattern, STORABLE_TEXT_PATTERN);
    const reservation = bodySchema('/products/{id}/stock/reservations', 'post')?.properties ?? {};
    assert.equal(reservation.reservationId?.pattern, STORABLE_TEXT_PATTERN);
    // Optional fields keep their other keywords too (`optional` used to drop them).
    assert.equal(create.description?.maxLength, 2000);
    assert.equal(reservation.reservationId?.maxLength, 200);
  });
});

describe('a value with no text form is a 422 at the HTTP edge, not a 500', () => {
  // Valid JSON that superstruct cannot quote in its message: it threw there, and the service answered 500.
  const noText = { toString: 1 };
  // As text: JSON.stringify itself runs out of stack on it.
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  const withDeep = (body: Record<string, unknown>) => JSON.stringify(body).replace('"DEEP"', deep);
  const cases: [string, string, string, unknown, string][] = [
    ['an object with its own toString as the name', 'POST', '/products', create({ name: noText }), '/name'],
    ['one as an unknown field', 'POST', '/products', create({ extra: noText }), '/extra'],
    ['one as a new price amount', 'PUT', `/products/${id}/price`, { amount: noText, currency: 'EUR' }, '/amount'],
    ['arrays nested 20,000 deep as the sku', 'POST', '/products', withDeep(create({ sku: 'DEEP' })), '/sku'],
    [
      'arrays nested 20,000 deep as a quantity',
      'POST',
      `/products/${id}/stock/reservations`,
      withDeep({ quantity: 'DEEP', reservationId: 'r-1' }),
      '/quantity',
    ],
  ];
  for (const [what, method, path, body, field] of cases) {
    test(`${what}: 422 at ${field}, nothing dispatched`, async () => {
      const { call, dispatched } = build();
      const problem = await validationFailed(await call(method, path, body, { 'idempotency-key': randomUUID() }));
      assert.equal(problem.errors.length, 1);
      assert.equal(problem.errors[0]?.path, field);
      assert.equal(problem.errors[0]?.message, UNPRINTABLE_MESSAGE);
      assert.equal(dispatched.length, 0);
    });
  }
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { validate } from 'superstruct';
import { STORABLE_TEXT_PATTERN } from '../../../src/domain/text.ts';
import { toJsonSchema } from '../../../src/http/openapi/json-schema.ts';
import { problemHandler } from '../../../src/http/problem.ts';
import { encodeCursor, queryDigest } from '../../../src/http/query/cursor.ts';
import { ListQuery, listShape } from '../../../src/http/query/params.ts';
import { productRoutes } from '../../../src/http/query/product-routes.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { ProgressHub } from '../../../src/projections/progress-hub.ts';
import type { ViewReader } from '../../../src/projections/view-reader.ts';

/** Every request here must be refused before any view is read. */
const untouchable = new Proxy({} as ViewReader, {
  get(_, property) {
    throw new Error(`the view reader was used (${String(property)}) although the request is invalid`);
  },
});

const logger = createLogger('test', 'silent');
const app = new Hono();
app.route('/', productRoutes({ reader: untouchable, hub: new ProgressHub(), cursorTtlMs: 60_000, fallbackPollMs: 50 }));
app.onError(problemHandler(() => logger));

async function problem(
  path: string,
): Promise<{ status: number; type: string; errors: { path: string; message: string }[] }> {
  const response = await app.request(path);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const body = (await response.json()) as { type: string; errors?: { path: string; message: string }[] };
  return { status: response.status, type: body.type, errors: body.errors ?? [] };
}

const id = randomUUID();

describe('query parameters are validated like bodies', () => {
  test('a product id that is not a UUID is a 422 naming the path parameter', async () => {
    const answer = await problem('/products/not-a-uuid');
    assert.equal(answer.status, 422);
    assert.equal(answer.type, '/problems/validation-failed');
    assert.deepEqual(answer.errors, [{ path: '/id', message: 'must be a UUID' }]);
  });

  test('operator objects are unknown parameters, never MongoDB operators', async () => {
    for (const query of ['minPrice[$gt]=0', 'status[$ne]=active', '$where=1', 'q[$regex]=.*']) {
      const answer = await problem(`/products?${query}`);
      assert.equal(answer.status, 422, query);
      assert.equal(answer.errors[0]?.message, 'is not an allowed field', query);
    }
  });

  test('out-of-range, non-integer and badly formed values are refused with the parameter named', async () => {
    const cases: [string, string][] = [
      ['/products?limit=0', '/limit'],
      ['/products?limit=101', '/limit'],
      ['/products?limit=1.5', '/limit'],
      ['/products?minPrice=-1', '/minPrice'],
      ['/products?maxPrice=1e3', '/maxPrice'],
      ['/products?currency=eur', '/currency'],
      ['/products?sort=random', '/sort'],
      ['/products?status=gone', '/status'],
      [`/products?q=${'x'.repeat(201)}`, '/q'],
      [`/products/${id}?minVersion=0`, '/minVersion'],
      [`/products/${id}?maxWaitMs=10001`, '/maxWaitMs'],
      [`/products/${id}?maxWaitMs=abc`, '/maxWaitMs'],
      [`/products/${id}?verbose=1`, '/verbose'],
      [`/products/${id}/price-history?limit=1`, '/limit'],
    ];
    for (const [path, field] of cases) {
      const answer = await problem(path);
      assert.equal(answer.status, 422, path);
      assert.deepEqual(
        answer.errors.map((e) => e.path),
        [field],
        path,
      );
    }
  });

  test('a parameter given twice is refused', async () => {
    const answer = await problem('/products?status=active&status=discontinued');
    assert.equal(answer.status, 422);
    assert.deepEqual(answer.errors, [{ path: '/status', message: 'must be given once' }]);
  });

  test('a price range whose maximum is below its minimum is an empty page, read from no view', async () => {
    const response = await app.request('/products?minPrice=500&maxPrice=100');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { items: [], nextCursor: null });
  });

  test('a cursor that does not decode, or belongs to another sort or other filters, is refused', async () => {
    const cursor = encodeCursor(
      {
        generation: 1,
        snapshot: new Date(),
        query: queryDigest('name', { status: 'active' }),
        after: { key: 'a', id },
      },
      'name',
    );
    const garbage = await problem('/products?cursor=garbage');
    assert.equal(garbage.status, 422);
    assert.equal(garbage.errors[0]?.path, '/cursor');
    const otherSort = await problem(`/products?sort=price&status=active&cursor=${cursor}`);
    assert.match(otherSort.errors[0]?.message ?? '', /another sort/);
    const otherFilters = await problem(`/products?status=discontinued&cursor=${cursor}`);
    assert.match(otherFilters.errors[0]?.message ?? '', /other filters/);
  });

  describe('text the stores cannot hold', () => {
    const MESSAGE = 'must not contain NUL or unpaired surrogate characters';

    test('a NUL (%00) in q, cursor or currency is a 422 naming the parameter, before any view is read', async () => {
      for (const [query, field] of [
        ['q=mug%00', '/q'],
        ['q=%00', '/q'],
        ['cursor=eyJ2Ijox%00', '/cursor'],
        ['currency=EU%00', '/currency'],
      ]) {
        const answer = await problem(`/products?${query}`);
        assert.equal(answer.status, 422, query);
        assert.deepEqual(answer.errors, [{ path: field, message: MESSAGE }], query);
      }
    });

    test('an unknown parameter whose name holds a NUL is named with a \\u0000 escape', async () => {
      const answer = await problem('/products?a%00b=1');
      assert.equal(answer.status, 422);
      assert.deepEqual(answer.errors, [{ path: '/a\\u0000b', message: 'is not an allowed field' }]);
    });

    test('a lone surrogate cannot arrive in a URL: Hono leaves %ED%A0%80 undecoded, a URL turns \\ud800 into U+FFFD', async () => {
      const echo = new Hono().get('/', (c) => c.json({ q: c.req.query('q') }));
      assert.deepEqual(await (await echo.request('/?q=a%ED%A0%80b')).json(), { q: 'a%ED%A0%80b' });
      assert.deepEqual(await (await echo.request('/?q=%ED%B0%80')).json(), { q: '%ED%B0%80' });
      assert.deepEqual(await (await echo.request('/?q=a\ud800b')).json(), { q: 'a\ufffdb' });
      assert.deepEqual(await (await echo.request('/?q=a%00b')).json(), { q: 'a\u0000b' });
    });

    test('the schema refuses a lone surrogate in q, cursor or currency all the same', () => {
      for (const field of ['q', 'cursor', 'currency']) {
        for (const text of ['\ud800', 'ab\udc00', '\u0000']) {
          const [error] = validate({ [field]: text }, ListQuery, { coerce: true });
          assert.deepEqual(
            error?.failures().map((f) => [f.path.join('.'), f.message])[0],
            [field, MESSAGE],
            `${field}=${JSON.stringify(text)}`,
          );
        }
        assert.equal(validate({ [field]: field === 'currency' ? 'EUR' : 'mug \ud83d\ude00' }, ListQuery)[0], undefined);
      }
    });

    test('the OpenAPI parameters q and cursor carry the storable-text pattern', () => {
      const fields = ListQuery.schema as Record<string, Parameters<typeof toJsonSchema>[0]>;
      for (const name of ['q', 'cursor']) {
        const schema = toJsonSchema(fields[name] as Parameters<typeof toJsonSchema>[0]);
        assert.equal(schema.pattern, STORABLE_TEXT_PATTERN, name);
      }
    });
  });
});

describe('a parsed list query', () => {
  test('an empty query is the first 20 by name, with no filter', () => {
    assert.deepEqual(listShape({}), {
      sort: 'name',
      limit: 20,
      filters: { status: undefined, minPrice: undefined, maxPrice: undefined, currency: undefined, q: undefined },
    });
  });

  test('every filter, the sort and the limit are carried over as given', () => {
    const query = {
      sort: 'price',
      limit: 7,
      status: 'active',
      minPrice: 100,
      maxPrice: 900,
      currency: 'EUR',
      q: 'lamp',
      cursor: 'ignored',
    } as const;
    assert.deepEqual(listShape(query), {
      sort: 'price',
      limit: 7,
      filters: { status: 'active', minPrice: 100, maxPrice: 900, currency: 'EUR', q: 'lamp' },
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import type { ProductView } from '../../../src/projections/views/products/view.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { ADMIN_TOKEN, getJson, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('api', 3);
const { topic } = bed;
let service: QueryService;

// The catalog: names with pattern characters, two currencies, one discontinued product.
const mug = new StreamBuilder();
const plate = new StreamBuilder();
const cafe = new StreamBuilder();
const dollar = new StreamBuilder();
const gone = new StreamBuilder();
const events: ProductEnvelope[] = [
  mug.created({ name: 'Coffee mug', price: { amount: 1200, currency: 'EUR' }, stock: 10 }),
  plate.created({ name: 'Dinner plate', price: { amount: 800, currency: 'EUR' }, stock: 4 }),
  cafe.created({ name: 'Café (Deluxe) .* cup', price: { amount: 2000, currency: 'EUR' }, stock: 1 }),
  dollar.created({ name: 'coffee grinder', price: { amount: 5000, currency: 'USD' }, stock: 2 }),
  gone.created({ name: 'Old mug', price: { amount: 300, currency: 'EUR' }, stock: 7 }),
  mug.priceChanged(1500),
  mug.reserved(3),
  gone.discontinued(),
  plate.restocked(6),
];

async function caughtUp(): Promise<void> {
  await eventually(
    async () => {
      const { body } = await getJson<{ totalLag: number }>(`${service.url}/projections`);
      return body.totalLag === 0;
    },
    { timeoutMs: 60_000, what: 'projection lag 0' },
  );
}

before(async () => {
  await bed.open();
  await bed.publish(events);
  service = await startQueryService(bed.service);
  await caughtUp();
});

after(async () => {
  await service?.stop();
  await bed.close();
});

describe('GET /products/{id}', () => {
  test('answers the view with its version as ETag, and 304 when If-None-Match matches', async () => {
    const { status, headers, body } = await getJson<ProductView>(`${service.url}/products/${mug.id}`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      id: mug.id,
      sku: `SKU-${mug.id.slice(0, 8)}`,
      name: 'Coffee mug',
      description: 'A product',
      price: { amount: 1500, currency: 'EUR' },
      stock: 7,
      status: 'active',
      version: 3,
      createdAt: events[0]?.occurredAt,
      updatedAt: events[6]?.occurredAt,
    });
    assert.equal(headers.get('etag'), '"3"');
    const cached = await fetch(`${service.url}/products/${mug.id}`, { headers: { 'If-None-Match': '"3"' } });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.get('etag'), '"3"');
    assert.equal(await cached.text(), '');
    const stale = await fetch(`${service.url}/products/${mug.id}`, { headers: { 'If-None-Match': '"2"' } });
    assert.equal(stale.status, 200);
  });

  test('404 for an unknown product, 422 for an id that is not a UUID', async () => {
    const unknown = await getJson(`${service.url}/products/${new StreamBuilder().id}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('content-type'), 'application/problem+json');
    assert.equal(unknown.body.type, '/problems/not-found');
    const invalid = await getJson(`${service.url}/products/42`);
    assert.equal(invalid.status, 422);
  });

  test('minVersion waits for the projection and answers as soon as the version is applied', async () => {
    const started = Date.now();
    const waiting = getJson<ProductView>(`${service.url}/products/${plate.id}?minVersion=3&maxWaitMs=8000`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await bed.publish([plate.renamed('Dinner plate, large')]);
    const { status, body } = await waiting;
    assert.equal(status, 200);
    assert.equal(body.version, 3);
    assert.equal(body.name, 'Dinner plate, large');
    assert.ok(Date.now() - started < 8000, 'answered before maxWaitMs');
  });

  test('minVersion also waits for a product that does not exist yet', async () => {
    const late = new StreamBuilder();
    const waiting = getJson<ProductView>(`${service.url}/products/${late.id}?minVersion=1&maxWaitMs=8000`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await bed.publish([late.created({ name: 'Late teapot', price: { amount: 9000, currency: 'EUR' } })]);
    const { status, body } = await waiting;
    assert.equal(status, 200);
    assert.equal(body.name, 'Late teapot');
  });

  test('minVersion not reached within maxWaitMs is a 503 with Retry-After and the current version', async () => {
    const { status, headers, body } = await getJson(`${service.url}/products/${mug.id}?minVersion=9&maxWaitMs=300`);
    assert.equal(status, 503);
    assert.equal(headers.get('retry-after'), '1');
    assert.equal(body.type, '/problems/service-unavailable');
    assert.equal(body.currentVersion, 3);
  });

  test('minVersion on a product that still does not exist when the wait ends is a 404, not a 503', async () => {
    const never = new StreamBuilder();
    const { status, body } = await getJson(`${service.url}/products/${never.id}?minVersion=1&maxWaitMs=300`);
    assert.equal(status, 404);
    assert.equal(body.type, '/problems/not-found');
  });
});

describe('GET /products', () => {
  type Page = { items: ProductView[]; nextCursor: string | null };
  const list = async (query: string) => {
    const { status, body } = await getJson<Page>(`${service.url}/products?${query}`);
    assert.equal(status, 200, query);
    return body;
  };
  const names = (page: Page) => page.items.map((p) => p.name);

  test('filters by status, currency, inclusive price range and a case-insensitive literal name fragment', async () => {
    await eventually(async () => (await list('limit=100')).items.length >= 6, { what: 'every product listed' });
    assert.deepEqual(names(await list('status=discontinued')), ['Old mug']);
    assert.deepEqual(names(await list('currency=USD')), ['coffee grinder']);
    assert.deepEqual(names(await list('minPrice=800&maxPrice=1500&sort=price')), ['Dinner plate, large', 'Coffee mug']);
    assert.deepEqual(names(await list('q=COFFEE')), ['Coffee mug', 'coffee grinder']);
    assert.deepEqual(names(await list(`q=${encodeURIComponent('(deluxe) .*')}`)), ['Café (Deluxe) .* cup']);
    assert.deepEqual(names(await list(`q=${encodeURIComponent('.*')}`)), ['Café (Deluxe) .* cup']);
  });

  test('sorts by name, price both ways and updatedAt both ways', async () => {
    const all = (await list('limit=100')).items;
    const by = (sort: string) => list(`limit=100&sort=${sort}`).then((page) => page.items.map((p) => p.id));
    const sorted = (compare: (a: ProductView, b: ProductView) => number) => [...all].sort(compare).map((p) => p.id);
    assert.deepEqual(
      await by('name'),
      sorted((a, b) => (a.name < b.name ? -1 : 1)),
    );
    assert.deepEqual(
      await by('price'),
      sorted((a, b) => a.price.amount - b.price.amount),
    );
    assert.deepEqual(
      await by('-price'),
      sorted((a, b) => b.price.amount - a.price.amount),
    );
    assert.deepEqual(
      await by('updatedAt'),
      sorted((a, b) => a.updatedAt.localeCompare(b.updatedAt) || (a.id < b.id ? -1 : 1)),
    );
    assert.deepEqual(
      await by('-updatedAt'),
      sorted((a, b) => b.updatedAt.localeCompare(a.updatedAt) || (a.id < b.id ? 1 : -1)),
    );
  });

  test('pages through every product exactly once with an opaque cursor', async () => {
    const all = (await list('limit=100&sort=price')).items.map((p) => p.id);
    const seen: string[] = [];
    let page = await list('limit=2&sort=price');
    seen.push(...page.items.map((p) => p.id));
    while (page.nextCursor) {
      page = await list(`limit=2&sort=price&cursor=${page.nextCursor}`);
      seen.push(...page.items.map((p) => p.id));
    }
    assert.deepEqual(seen, all);
  });

  test('an empty cursor is the first page; a price range whose maximum is below its minimum is empty', async () => {
    assert.deepEqual(await list('cursor=&sort=price&limit=2'), await list('sort=price&limit=2'));
    assert.deepEqual(await list('minPrice=1500&maxPrice=800'), { items: [], nextCursor: null });
  });

  test('invalid parameters, operator injection and foreign cursors are 422', async () => {
    const first = await list('limit=1&sort=price');
    for (const query of [
      'minPrice[$gt]=0',
      'limit=500',
      'sort=price&sort=name',
      `sort=name&cursor=${first.nextCursor}`,
    ]) {
      const { status, body } = await getJson(`${service.url}/products?${query}`);
      assert.equal(status, 422, query);
      assert.equal(body.type, '/problems/validation-failed');
    }
  });
});

test('GET /products/{id}/price-history lists every price, oldest first; 404 for an unknown product', async () => {
  const { status, body } = await getJson<{ items: { price: { amount: number }; version: number }[] }>(
    `${service.url}/products/${mug.id}/price-history`,
  );
  assert.equal(status, 200);
  assert.deepEqual(
    body.items.map((i) => [i.version, i.price.amount]),
    [
      [1, 1200],
      [2, 1500],
    ],
  );
  assert.equal((await getJson(`${service.url}/products/${new StreamBuilder().id}/price-history`)).status, 404);
});

test('GET /stats sums the partitions: active products only count stock and value', async () => {
  const { body } = await getJson(`${service.url}/stats`);
  assert.deepEqual(body, {
    activeProducts: 5,
    discontinuedProducts: 1,
    stockUnits: 7 + 10 + 1 + 2 + 10,
    inventoryValue: { EUR: 7 * 1500 + 10 * 800 + 1 * 2000 + 10 * 9000, USD: 2 * 5000 },
  });
});

test('GET /projections shows committed offset, end offset, lag and last event time per partition', async () => {
  await caughtUp();
  const { status, body } = await getJson<{
    consumerGroup: string;
    partitions: {
      partition: number;
      committedOffset: number | null;
      endOffset: number;
      lag: number;
      lastEventAt: string | null;
    }[];
  }>(`${service.url}/projections`);
  assert.equal(status, 200);
  assert.equal(body.consumerGroup, `${topic}.g1`);
  assert.deepEqual(
    body.partitions.map((p) => p.partition),
    [0, 1, 2],
  );
  const total = body.partitions.reduce((sum, p) => sum + p.endOffset, 0);
  assert.equal(total, events.length + 2);
  for (const p of body.partitions) {
    assert.equal(p.lag, 0);
    if (p.endOffset > 0) {
      assert.equal(p.committedOffset, p.endOffset);
      assert.ok(p.lastEventAt);
    }
  }
});

test('health, metrics, OpenAPI document and docs page', async () => {
  assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
  const ready = await getJson<{ checks: Record<string, string> }>(`${service.url}/health/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body.checks, { mongodb: 'ok', kafka: 'ok', projection: 'ok' });
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /projection_events_total\{[^}]*outcome="applied"[^}]*\} \d+/);
  assert.match(metrics, /projection_partition_lag\{/);
  // Each event is written after its batch was fetched, so its age written is at least its age fetched.
  const ageSum = (stage: string) =>
    Number(metrics.match(new RegExp(`projection_event_age_seconds_sum\\{[^}]*stage="${stage}"[^}]*\\} (\\S+)`))?.[1]);
  const ageCount = (stage: string) =>
    Number(metrics.match(new RegExp(`projection_event_age_seconds_count\\{[^}]*stage="${stage}"[^}]*\\} (\\d+)`))?.[1]);
  assert.ok(ageCount('written') > 0, 'events written were timed');
  assert.equal(ageCount('fetched'), ageCount('written'));
  assert.ok(ageSum('written') >= ageSum('fetched'), `written ${ageSum('written')} s, fetched ${ageSum('fetched')} s`);
  assert.match(metrics, /http_requests_total\{/);
  const openapi = await getJson<{ paths: Record<string, unknown> }>(`${service.url}/openapi.json`);
  assert.ok(openapi.body.paths['/products/{id}']);
  assert.ok(openapi.body.paths['/projections']);
  const docs = await fetch(`${service.url}/docs`);
  assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
});

test('admin routes need the admin bearer token; unknown routes are problem+json 404s', async () => {
  assert.equal((await fetch(`${service.url}/admin/rebuild`, { method: 'POST' })).status, 401);
  const wrong = await fetch(`${service.url}/admin/rebuild`, {
    headers: { authorization: 'Bearer not-the-token-at-all' },
  });
  assert.equal(wrong.status, 401);
  const none = await fetch(`${service.url}/admin/rebuild`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(none.status, 404);
  const missing = await getJson(`${service.url}/nothing-here`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.type, '/problems/not-found');
});

test('a method a path does not have is a 405 listing the methods it has in Allow', async () => {
  for (const [method, path, allow] of [
    ['DELETE', `/products/${mug.id}`, 'GET, HEAD'],
    ['POST', '/products', 'GET, HEAD'],
    ['PATCH', '/stats', 'GET, HEAD'],
  ] as const) {
    const response = await fetch(`${service.url}${path}`, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
    assert.equal(((await response.json()) as { type: string }).type, '/problems/method-not-allowed');
  }
});

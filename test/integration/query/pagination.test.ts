import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeCursor } from '../../../src/http/query/cursor.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import { viewCollections } from '../../../src/projections/view-store.ts';
import type { ListPage, ProductFilters, ProductSort } from '../../../src/projections/views/products/list-rules.ts';
import { listProducts } from '../../../src/projections/views/products/query.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { getJson, type QueryService, startQueryService, walkFromMemory } from './support/service.ts';

const bed = new QueryBed('pages', 3);
const { database, mongo } = bed;
let service: QueryService;
const streams = Array.from({ length: 60 }, () => new StreamBuilder());

type Page = { items: { id: string }[]; nextCursor: string | null };

before(async () => {
  await bed.open();
  await bed.publish(
    streams.map((s, i) =>
      s.created({ name: `Item ${String(i).padStart(3, '0')}`, price: { amount: 100 + i, currency: 'EUR' } }),
    ),
  );
  service = await startQueryService(bed.service);
  await eventually(
    async () => (await getJson<Page>(`${service.url}/products?limit=100`)).body.items.length === streams.length,
    { timeoutMs: 60_000, what: 'every product listed' },
  );
});

after(async () => {
  await service?.stop();
  await bed.close();
});

/**
 * Moves products across the whole sort order between pages: prices jump from the cheapest to the
 * dearest and back, every write changes updatedAt, names flip, and new products appear.
 */
function churn(round: number): ProductEnvelope[] {
  const events: ProductEnvelope[] = [];
  for (const [i, s] of streams.entries()) {
    if ((i + round) % 3 !== 0) continue;
    events.push(s.priceChanged(s.price.amount > 1000 ? 50 + i : 5000 + i));
    events.push(s.renamed(s.name.startsWith('Item') ? `Zz ${i}` : `Aa ${i}`));
  }
  events.push(new StreamBuilder().created({ name: `New ${round}`, price: { amount: 99, currency: 'EUR' } }));
  return events;
}

for (const sort of ['price', '-price', 'name', '-updatedAt']) {
  test(`paging by ${sort} while products move returns each product that existed throughout exactly once`, async () => {
    const seen: string[] = [];
    let round = 0;
    let page = (await getJson<Page>(`${service.url}/products?limit=7&sort=${sort}`)).body;
    seen.push(...page.items.map((p) => p.id));
    while (page.nextCursor) {
      await bed.publish(churn(round++));
      // Let the projection apply the churn, so that the next page is read while documents have moved.
      await new Promise((resolve) => setTimeout(resolve, 700));
      page = (await getJson<Page>(`${service.url}/products?limit=7&sort=${sort}&cursor=${page.nextCursor}`)).body;
      seen.push(...page.items.map((p) => p.id));
    }
    assert.ok(round >= 5, 'several pages were read under writes');
    assert.equal(new Set(seen).size, seen.length, 'no product twice');
    const original = new Set(streams.map((s) => s.id));
    assert.deepEqual(
      new Set(seen.filter((id) => original.has(id))),
      original,
      'no product that existed throughout skipped',
    );
  });
}

test('list pages served from memory are exactly the pages MongoDB gives for the same snapshot', async () => {
  const cases: { sort: ProductSort; filters: ProductFilters }[] = [
    { sort: '-updatedAt', filters: {} },
    { sort: 'name', filters: { status: 'active' } },
    { sort: 'price', filters: { currency: 'EUR', minPrice: 60, maxPrice: 5000 } },
    { sort: '-price', filters: { q: 'SPECIAL' } },
  ];
  const specials = Array.from({ length: 6 }, (_, i) =>
    new StreamBuilder().created({ name: `Special ${i}`, price: { amount: 300 + i, currency: 'EUR' } }),
  );
  await bed.publish(specials);
  await eventually(
    async () => (await getJson<Page>(`${service.url}/products?q=special&limit=10`)).body.items.length === 6,
    { timeoutMs: 30_000, what: 'the special products listed' },
  );
  for (const { sort, filters } of cases) {
    const query = new URLSearchParams({ limit: '4', sort });
    for (const [name, value] of Object.entries(filters)) query.set(name, String(value));
    let first: string | null = null;
    const served = await walkFromMemory(service.url, async () => {
      const pages: string[][] = [];
      let page = (await getJson<Page>(`${service.url}/products?${query}`)).body;
      first = page.nextCursor;
      pages.push(page.items.map((p) => `${p.id}@${(p as { version?: number }).version}`));
      while (page.nextCursor) {
        page = (await getJson<Page>(`${service.url}/products?${query}&cursor=${page.nextCursor}`)).body;
        pages.push(page.items.map((p) => `${p.id}@${(p as { version?: number }).version}`));
      }
      return pages;
    });
    assert.ok(first, `${sort} ${JSON.stringify(filters)}: more than one page`);

    // The same pagination read from MongoDB at the snapshot the first page's cursor carries.
    const { generation, snapshot } = decodeCursor(first, sort);
    const { products, versions } = viewCollections(mongo.db(database), generation);
    const stored: string[][] = [];
    let after: ListPage['last'];
    do {
      const result = await listProducts(products, versions, { filters, sort, limit: 4, snapshot, after }, 600_000);
      stored.push(result.items.map((p) => `${p.id}@${p.version}`));
      after = result.last;
    } while (after);
    assert.deepEqual(served, stored, `${sort} ${JSON.stringify(filters)}`);
  }
});

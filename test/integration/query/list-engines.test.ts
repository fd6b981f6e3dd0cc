import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { decodeCursor } from '../../../src/http/query/cursor.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import { SupersededVersions } from '../../../src/projections/superseded-versions.ts';
import { viewCollections } from '../../../src/projections/view-store.ts';
import {
  type ListPage,
  type ListPosition,
  type ListRequest,
  PRODUCT_SORTS,
  type ProductFilters,
  type ProductSort,
} from '../../../src/projections/views/products/list-rules.ts';
import { listFromMemory, newCatalogIndex } from '../../../src/projections/views/products/memory-list.ts';
import { listProducts } from '../../../src/projections/views/products/query.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { getJson, type QueryService, startQueryService, walkFromMemory } from './support/service.ts';

/**
 * Both list engines on one generated catalog: the query service's memory (through HTTP) and its
 * indexes built from what FerretDB holds, against `listProducts` on FerretDB itself. Names mix
 * case and code points on both sides of the UTF-16 surrogates, where UTF-16 and UTF-8 orders differ.
 */

const bed = new QueryBed('engines', 3);
const { database, mongo } = bed;
let service: QueryService;
const RETENTION_MS = 600_000;

const PIECES = [
  'mug',
  'Mug',
  'MUG',
  '\u{1D49C}',
  '\uFF21',
  '\u{1F600}',
  '\u{10400}',
  '\u{10428}',
  '\u00E9',
  'E',
  'z',
  ' ',
];
const nameArb = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 3 }).map((p) => p.join(''));
const productArb = fc.record({
  name: nameArb,
  amount: fc.integer({ min: 1, max: 30 }),
  currency: fc.constantFrom('EUR', 'USD'),
  renamed: fc.option(nameArb, { nil: undefined }),
  repriced: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  discontinued: fc.boolean(),
});
const catalog = fc.sample(productArb, { numRuns: 150, seed: 14 });

const filtersArb: fc.Arbitrary<ProductFilters> = fc.record(
  {
    status: fc.constantFrom('active' as const, 'discontinued' as const),
    currency: fc.constantFrom('EUR', 'USD'),
    minPrice: fc.integer({ min: 1, max: 30 }),
    maxPrice: fc.integer({ min: 1, max: 30 }),
    q: fc.constantFrom('mug', 'MUG', 'e', '\u{10400}', '\u{10428}', '\u{1F600}', 'z m', 'nothing'),
  },
  { requiredKeys: [] },
);

type Page = { items: { id: string; version: number }[]; nextCursor: string | null };

before(async () => {
  await bed.open();
  const events: ProductEnvelope[] = [];
  for (const p of catalog) {
    const stream = new StreamBuilder();
    events.push(stream.created({ name: p.name, price: { amount: p.amount, currency: p.currency } }));
    if (p.renamed !== undefined) events.push(stream.renamed(p.renamed));
    if (p.repriced !== undefined) events.push(stream.priceChanged(p.repriced));
    if (p.discontinued) events.push(stream.discontinued());
  }
  await bed.publish(events);
  service = await startQueryService(bed.service);
  const versions = new Map<string, number>();
  for (const e of events) versions.set(e.aggregateId, e.version);
  await eventually(
    async () => {
      const listed: Page['items'] = [];
      let cursor: string | null = null;
      do {
        const page: Page = (
          await getJson<Page>(`${service.url}/products?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        ).body;
        listed.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return listed.length === versions.size && listed.every((p) => versions.get(p.id) === p.version);
    },
    { timeoutMs: 90_000, what: 'every product listed at its last version' },
  );
});

after(async () => {
  await service?.stop();
  await bed.close();
});

const pageKey = (page: ListPage) => ({
  items: page.items.map((p) => `${p.id}@${p.version}`),
  last: page.last && { key: page.last.key instanceof Date ? page.last.key.getTime() : page.last.key, id: page.last.id },
});

async function walkAll(list: (after: ListPosition | undefined) => Promise<ListPage> | ListPage) {
  const pages: ReturnType<typeof pageKey>[] = [];
  let after: ListPosition | undefined;
  do {
    const page = await list(after);
    pages.push(pageKey(page));
    after = page.last;
  } while (after && pages.length < 500);
  return pages;
}

/** The snapshot the service gives a new pagination now (every write is in by then). */
async function currentSnapshot(): Promise<{ generation: number; snapshot: Date }> {
  const page = (await getJson<Page>(`${service.url}/products?limit=1&sort=name`)).body;
  assert.ok(page.nextCursor);
  return decodeCursor(page.nextCursor, 'name');
}

test('memory indexes and FerretDB give the same pages, budget cuts included, for generated queries', async () => {
  const { generation, snapshot } = await currentSnapshot();
  const { products, versions } = viewCollections(mongo.db(database), generation);
  const index = newCatalogIndex();
  new SupersededVersions(index.superseded).add(
    (await versions.find({}).toArray()).sort((a, b) => a.validTo.getTime() - b.validTo.getTime()),
  );
  for (const doc of await products.find({}).toArray()) index.current.add(doc);

  const queries = fc.sample(
    fc.record({
      sort: fc.constantFrom(...PRODUCT_SORTS),
      filters: filtersArb,
      limit: fc.integer({ min: 1, max: 25 }),
      walkBudget: fc.constantFrom(undefined, 4, 17, 60),
    }),
    { numRuns: 40, seed: 1414 },
  );
  for (const { sort, filters, limit, walkBudget } of queries) {
    const request = (after: ListPosition | undefined): ListRequest => ({
      filters,
      sort,
      limit,
      snapshot,
      after,
      ...(walkBudget === undefined ? {} : { walkBudget }),
    });
    const stored = await walkAll((after) => listProducts(products, versions, request(after), RETENTION_MS));
    const held = await walkAll((after) => listFromMemory(index, request(after)));
    assert.deepEqual(held, stored, JSON.stringify({ sort, filters, limit, walkBudget }));
  }
});

test("the service's pages, walked through HTTP, are FerretDB's pages at the cursor's snapshot", async () => {
  const cases: { sort: ProductSort; filters: ProductFilters; limit: number }[] = [
    { sort: 'name', filters: {}, limit: 7 },
    { sort: 'name', filters: { q: '\u{10428}' }, limit: 3 },
    { sort: '-price', filters: { currency: 'USD', minPrice: 5, maxPrice: 25 }, limit: 4 },
    { sort: 'updatedAt', filters: { status: 'active', q: 'mug', maxPrice: 20 }, limit: 5 },
    { sort: '-updatedAt', filters: { status: 'discontinued' }, limit: 6 },
  ];
  for (const { sort, filters, limit } of cases) {
    const query = new URLSearchParams({ limit: String(limit), sort });
    for (const [name, value] of Object.entries(filters)) query.set(name, String(value));
    let first: string | null = null;
    const served = await walkFromMemory(service.url, async () => {
      const pages: string[][] = [];
      let page = (await getJson<Page>(`${service.url}/products?${query}`)).body;
      first = page.nextCursor;
      pages.push(page.items.map((p) => `${p.id}@${p.version}`));
      while (page.nextCursor) {
        page = (await getJson<Page>(`${service.url}/products?${query}&cursor=${encodeURIComponent(page.nextCursor)}`))
          .body;
        pages.push(page.items.map((p) => `${p.id}@${p.version}`));
      }
      return pages;
    });
    assert.ok(first, `${sort} ${JSON.stringify(filters)}: more than one page`);
    const { generation, snapshot } = decodeCursor(first, sort);
    const { products, versions } = viewCollections(mongo.db(database), generation);
    const stored = await walkAll((after) =>
      listProducts(products, versions, { filters, sort, limit, snapshot, after }, RETENTION_MS),
    );
    assert.deepEqual(
      served,
      stored.map((p) => p.items),
      `${sort} ${JSON.stringify(filters)}`,
    );
  }
});

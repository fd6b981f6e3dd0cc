import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  canListAt,
  listFromMemory,
  type PartitionCatalog,
} from '../../../src/projections/views/products/memory-list.ts';
import {
  compareListed,
  type ListedProduct,
  PRODUCT_SORTS,
  type ProductFilters,
} from '../../../src/projections/views/products/query.ts';
import { type ProductVersionDoc, supersededVersion } from '../../../src/projections/views/products/versions.ts';
import type { ProductDoc } from '../../../src/projections/views/products/view.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const NAMES = ['Mug', 'mug large', 'Plate', 'Bowl', 'Cup', 'MUGGY', 'Tray'];

/** One revision of a product: what it looked like from `at` (ms after T0) on. */
const revision = fc.record({
  at: fc.integer({ min: 1, max: 50 }),
  name: fc.constantFrom(...NAMES),
  amount: fc.integer({ min: 1, max: 20 }),
  currency: fc.constantFrom('EUR', 'USD'),
  status: fc.constantFrom('active' as const, 'discontinued' as const),
});

type Revision = { at: number; name: string; amount: number; currency: string; status: 'active' | 'discontinued' };

const catalogArb: fc.Arbitrary<Revision[][]> = fc.array(fc.array(revision, { minLength: 1, maxLength: 4 }), {
  minLength: 0,
  maxLength: 40,
});

const filtersArb: fc.Arbitrary<ProductFilters> = fc.record(
  {
    status: fc.constantFrom('active' as const, 'discontinued' as const),
    currency: fc.constantFrom('EUR', 'USD'),
    minPrice: fc.integer({ min: 1, max: 20 }),
    maxPrice: fc.integer({ min: 1, max: 20 }),
    q: fc.constantFrom('mug', 'UG', 'a', '.'),
  },
  { requiredKeys: [] },
);

/** Products spread over three partitions, each with its history: current documents and superseded versions. */
function build(histories: Revision[][]): { catalogs: PartitionCatalog[]; all: ListedProduct[][] } {
  const partitions = [0, 1, 2].map(() => ({ products: [] as ProductDoc[], versions: [] as ProductVersionDoc[] }));
  const all: ListedProduct[][] = [];
  histories.forEach((revisions, index) => {
    const id = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
    const partition = index % 3;
    let time = T0;
    const docs = revisions.map((r, i): ProductDoc => {
      time += r.at;
      return {
        _id: id,
        id,
        sku: `SKU-${index}`,
        name: r.name,
        description: '',
        price: { amount: r.amount, currency: r.currency },
        stock: 1,
        status: r.status,
        version: i + 1,
        createdAt: new Date(T0),
        updatedAt: new Date(time),
        partition,
        validFrom: new Date(time),
      };
    });
    const versions = docs.slice(0, -1).map((doc, i) => supersededVersion(doc, (docs[i + 1] as ProductDoc).validFrom));
    const target = partitions[partition] as (typeof partitions)[number];
    target.products.push(docs.at(-1) as ProductDoc);
    target.versions.push(...versions);
    all.push([...versions, docs.at(-1) as ProductDoc]);
  });
  const catalogs = partitions.map((p) => ({
    products: p.products,
    versions: [...p.versions].sort((a, b) => a.validTo.getTime() - b.validTo.getTime()),
    writtenUpTo: T0 + 1000,
    loadedAt: T0,
  }));
  return { catalogs, all };
}

/** The specification: each product as it was at `t`, filtered and in sort order. */
function expected(all: ListedProduct[][], t: number, filters: ProductFilters, sort: (typeof PRODUCT_SORTS)[number]) {
  const q = filters.q?.toLowerCase();
  return all
    .map((history) =>
      history.find((d) => {
        const validTo = (d as Partial<ProductVersionDoc>).validTo?.getTime() ?? Number.POSITIVE_INFINITY;
        return d.validFrom.getTime() <= t && t < validTo;
      }),
    )
    .filter((d): d is ListedProduct => d !== undefined)
    .filter(
      (d) =>
        (filters.status === undefined || d.status === filters.status) &&
        (filters.currency === undefined || d.price.currency === filters.currency) &&
        (filters.minPrice === undefined || d.price.amount >= filters.minPrice) &&
        (filters.maxPrice === undefined || d.price.amount <= filters.maxPrice) &&
        (q === undefined || d.name.toLowerCase().includes(q)),
    )
    .sort((a, b) => compareListed(sort, a, b))
    .map((d) => `${d.id}@${d.version}`);
}

test('paging through memory lists each product once, as it was at the snapshot, filtered and in order', () => {
  fc.assert(
    fc.property(
      catalogArb,
      filtersArb,
      fc.constantFrom(...PRODUCT_SORTS),
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 1, max: 7 }),
      (histories, filters, sort, offset, limit) => {
        const { catalogs, all } = build(histories);
        const snapshot = new Date(T0 + offset);
        const listed: string[] = [];
        let after: { key: string | number | Date; id: string } | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = listFromMemory(catalogs, { filters, sort, limit, snapshot, after });
          assert.ok(page.items.length <= limit);
          listed.push(...page.items.map((d) => `${d.id}@${d.version}`));
          if (!page.last) break;
          assert.equal(page.items.length, limit, 'a page followed by more is full');
          after = page.last;
        }
        assert.deepEqual(listed, expected(all, T0 + offset, filters, sort));
      },
    ),
    { numRuns: 300 },
  );
});

test('a page carries no storage key, and the last page has no cursor', () => {
  const { catalogs } = build([[{ at: 1, name: 'Mug', amount: 5, currency: 'EUR', status: 'active' }]]);
  const page = listFromMemory(catalogs, { filters: {}, sort: 'name', limit: 5, snapshot: new Date(T0 + 10) });
  assert.equal(page.items.length, 1);
  assert.equal('_id' in (page.items[0] as object), false);
  assert.equal(page.last, undefined);
});

test('memory answers only snapshots between the load of every partition and its last write', () => {
  const catalog = { products: [], versions: [], loadedAt: 100, writtenUpTo: 200 };
  assert.equal(canListAt([catalog], new Date(150)), true);
  assert.equal(canListAt([catalog], new Date(99)), false, 'older versions may be only in MongoDB');
  assert.equal(canListAt([catalog], new Date(201)), false, 'writes after 200 may still be in flight');
  assert.equal(canListAt([catalog, { ...catalog, loadedAt: 160 }], new Date(150)), false);
});

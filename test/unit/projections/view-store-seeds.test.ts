import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bulkhead } from '../../../src/infra/bulkhead.ts';
import { type PartitionSnapshot, type ViewCollections, ViewStore } from '../../../src/projections/view-store.ts';
import { toShardDoc } from '../../../src/projections/views/catalog-stats/shard-doc.ts';
import { emptyShard } from '../../../src/projections/views/catalog-stats/view.ts';
import { evolveProduct, type ProductDoc } from '../../../src/projections/views/products/view.ts';
import { StreamBuilder } from './stream-builder.ts';

const product = (): ProductDoc => evolveProduct(null, new StreamBuilder().created(), 0, new Date(0));

/** Collections that answer with `stored` and count the reads. */
function fakeViews(stored: ProductDoc[]) {
  const reads = { count: 0 };
  const cursor = (docs: unknown[]) => ({
    limit: () => cursor(docs),
    toArray: async () => {
      reads.count += 1;
      return docs;
    },
  });
  const views = {
    products: { find: () => cursor(stored) },
    parked: { find: () => cursor([]) },
    stats: { findOne: async () => toShardDoc(emptyShard(0)) },
  } as unknown as ViewCollections;
  return { views, reads };
}

test("a partition's first load comes from its seed, later ones from MongoDB", async () => {
  const inMongo = [product()];
  const { views, reads } = fakeViews(inMongo);
  const seeded = [product(), product()];
  const seed: PartitionSnapshot = { shard: emptyShard(0), parked: [], products: seeded, complete: true };
  const store = new ViewStore(views, new Bulkhead('test', 1), new Map([[0, seed]]));
  const first = store.takeSeed(0, 10);
  assert.equal(reads.count, 0, 'nothing read from MongoDB');
  assert.deepEqual(first?.products, seeded);
  assert.equal(first?.complete, true);
  assert.equal(store.takeSeed(0, 10), undefined, 'a seed serves one load');
  const state = await store.loadPartitionState(0);
  assert.deepEqual(state.shard, emptyShard(0), 'the stored shard read back with BigInt counters');
  const second = await store.loadPartitionProducts(0, 10);
  assert.ok(reads.count > 0);
  assert.deepEqual(second, { products: inMongo, complete: true });
});

test('a seed larger than the cache is cut to it and marked incomplete', async () => {
  const { views } = fakeViews([]);
  const seeded = [product(), product(), product()];
  const store = new ViewStore(
    views,
    new Bulkhead('test', 1),
    new Map([[0, { shard: null, parked: [], products: seeded, complete: true }]]),
  );
  const loaded = store.takeSeed(0, 2);
  assert.equal(loaded?.products.length, 2);
  assert.equal(loaded?.complete, false);
});

test('a partition with more products than the cache holds is read up to it and marked incomplete', async () => {
  const inMongo = [product(), product(), product()];
  const store = new ViewStore(fakeViews(inMongo).views, new Bulkhead('test', 1));
  assert.deepEqual(await store.loadPartitionProducts(0, 2), { products: inMongo.slice(0, 2), complete: false });
  assert.deepEqual(await store.loadPartitionProducts(0, 3), { products: inMongo, complete: true });
});

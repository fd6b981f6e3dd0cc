import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProductCache } from '../../../src/projections/product-cache.ts';
import { SupersededVersions } from '../../../src/projections/superseded-versions.ts';
import { ListIndex } from '../../../src/projections/views/products/list-index.ts';
import { type ProductVersionDoc, supersededVersion } from '../../../src/projections/views/products/versions.ts';
import type { ProductDoc } from '../../../src/projections/views/products/view.ts';

const doc = (n: number, name: string, version = 1): ProductDoc => {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    _id: id,
    id,
    sku: `SKU-${n}`,
    name,
    description: '',
    price: { amount: 100 + n, currency: 'EUR' },
    stock: 1,
    status: 'active',
    version,
    createdAt: new Date(0),
    updatedAt: new Date(version),
    partition: 0,
    validFrom: new Date(version),
  };
};

const names = (index: ListIndex<ProductDoc>) => {
  const [walk] = index.walks('name', 1, {}, undefined);
  const out: string[] = [];
  for (let d = walk?.current; d !== undefined; d = walk?.advance()) out.push(`${d.name}@${d.version}`);
  return out;
};

test('the list index follows the cache: a replaced document moves, an evicted one leaves, a release empties it', () => {
  const index = new ListIndex<ProductDoc>();
  const cache = new ProductCache(2, true, index);
  cache.set(doc(1, 'Mug'));
  cache.set(doc(2, 'Bowl'));
  cache.set(doc(1, 'Tray', 2));
  assert.deepEqual(names(index), ['Bowl@1', 'Tray@2']);
  cache.set(doc(3, 'Cup'));
  assert.deepEqual(names(index), ['Cup@1', 'Tray@2'], 'the least recently set (Bowl) was evicted');
  assert.equal(cache.complete, false);
  assert.equal(cache.peek(doc(2, 'Bowl')._id), undefined, 'once incomplete, a miss may be in MongoDB');
  cache.release();
  assert.equal(index.size, 0);
  assert.equal(cache.peek(doc(3, 'Cup')._id), undefined);
});

test('a complete cache says a product it does not hold does not exist; peeking moves nothing', () => {
  const cache = new ProductCache(2, true, new ListIndex<ProductDoc>());
  cache.set(doc(1, 'Mug'));
  cache.set(doc(2, 'Bowl'));
  assert.equal(cache.peek(doc(9, 'None')._id), null);
  assert.equal(cache.peek(doc(1, 'Mug')._id)?.name, 'Mug');
  cache.set(doc(3, 'Cup'));
  assert.equal(cache.peek(doc(1, 'Mug')._id), undefined, 'Mug was still the oldest: peek did not refresh it');
});

test('superseded versions leave the index when they expire or are released', () => {
  const index = new ListIndex<ProductVersionDoc>((v) => v.validTo.getTime());
  const versions = new SupersededVersions(index);
  versions.add([supersededVersion(doc(1, 'Mug'), new Date(10)), supersededVersion(doc(2, 'Bowl'), new Date(20))]);
  assert.equal(index.size, 2);
  versions.expireBefore(15);
  assert.equal(index.size, 1);
  versions.release();
  assert.equal(index.size, 0);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differences, ExpectedCatalog } from '../../../src/projections/consistency.ts';
import { StreamBuilder } from './stream-builder.ts';

test('the verifier folds streams with the domain evolve and names every field, product and stat that differs', () => {
  const a = new StreamBuilder();
  const b = new StreamBuilder();
  const catalog = new ExpectedCatalog();
  for (const event of [a.created({ stock: 3 }), b.created({ stock: 1 }), a.priceChanged(2000), b.discontinued()]) {
    catalog.add(event);
  }
  const products = catalog.products();
  const stats = catalog.stats();
  assert.equal(products.get(a.id)?.price.amount, 2000);
  assert.equal(products.get(b.id)?.status, 'discontinued');
  assert.deepEqual(stats, {
    activeProducts: 1,
    discontinuedProducts: 1,
    stockUnits: 3n,
    inventoryValue: { EUR: 6000n },
  });

  const views = [...products.values()];
  assert.deepEqual(differences({ products, stats }, { products: views, stats }), []);

  const stale = views.map((v) => (v.id === a.id ? { ...v, version: 1, price: { amount: 1000, currency: 'EUR' } } : v));
  const extra = { ...views[0], id: new StreamBuilder().id } as (typeof views)[number];
  const found = differences(
    { products, stats },
    { products: [...stale.filter((v) => v.id !== b.id), extra], stats: { ...stats, stockUnits: 4n } },
  );
  assert.deepEqual(
    found.sort(),
    [
      `catalog_stats: stockUnits is 4, expected 3`,
      `product ${a.id}: price is {"amount":1000,"currency":"EUR"}, expected {"amount":2000,"currency":"EUR"}`,
      `product ${a.id}: version is 1, expected 2`,
      `product ${b.id}: in the event store but not in the view`,
      `product ${extra.id}: in the view but not in the event store`,
    ].sort(),
  );
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { snapshotWatermark } from '../../../src/projections/views/catalog-stats/query.ts';
import {
  applyChange,
  contribution,
  emptyShard,
  emptyStats,
  sumShards,
} from '../../../src/projections/views/catalog-stats/view.ts';

const eur = (amount: number) => ({ amount, currency: 'EUR' });

describe('catalog stats', () => {
  test('an active product counts its stock and stock x price; a discontinued one only counts itself', () => {
    assert.deepEqual(contribution({ status: 'active', stock: 3, price: eur(250) }), {
      activeProducts: 1,
      discontinuedProducts: 0,
      stockUnits: 3,
      inventoryValue: { EUR: 750 },
    });
    assert.deepEqual(contribution({ status: 'discontinued', stock: 3, price: eur(250) }), {
      ...emptyStats(),
      discontinuedProducts: 1,
    });
  });

  test('a change replaces the before contribution by the after one, dropping currencies that reach zero', () => {
    let stats = applyChange(emptyStats(), null, { status: 'active', stock: 2, price: eur(100) });
    stats = applyChange(
      stats,
      { status: 'active', stock: 2, price: eur(100) },
      {
        status: 'active',
        stock: 2,
        price: { amount: 300, currency: 'USD' },
      },
    );
    assert.deepEqual(stats.inventoryValue, { USD: 600 });
    stats = applyChange(
      stats,
      { status: 'active', stock: 2, price: { amount: 300, currency: 'USD' } },
      {
        status: 'discontinued',
        stock: 2,
        price: { amount: 300, currency: 'USD' },
      },
    );
    assert.deepEqual(stats, { activeProducts: 0, discontinuedProducts: 1, stockUnits: 0, inventoryValue: {} });
  });

  test('shards sum per currency', () => {
    const a = { ...emptyShard(0), activeProducts: 2, stockUnits: 5, inventoryValue: { EUR: 10, USD: 1 } };
    const b = {
      ...emptyShard(1),
      activeProducts: 1,
      discontinuedProducts: 4,
      stockUnits: 1,
      inventoryValue: { EUR: 5 },
    };
    assert.deepEqual(sumShards([a, b]), {
      activeProducts: 3,
      discontinuedProducts: 4,
      stockUnits: 6,
      inventoryValue: { EUR: 15, USD: 1 },
    });
  });

  test('the list snapshot is the oldest shard watermark, and the epoch before any shard exists', () => {
    const shard = (partition: number, watermark: number) => ({
      ...emptyShard(partition),
      watermark: new Date(watermark),
    });
    assert.equal(snapshotWatermark([shard(0, 5000), shard(1, 3000), shard(2, 9000)]).getTime(), 3000);
    assert.equal(snapshotWatermark([]).getTime(), 0);
  });

  test('sums past 2^53 minor units are exact and the same in any order', () => {
    const terms = [2 ** 53, 1, 1].map((value) => ({
      ...emptyStats(),
      activeProducts: 1,
      inventoryValue: { EUR: value },
    }));
    // Doubles added left to right give 2^53 (each +1 rounds away); the exact sum is 2^53 + 2.
    assert.equal(sumShards(terms).inventoryValue.EUR, 2 ** 53 + 2);
    assert.equal(sumShards([...terms].reverse()).inventoryValue.EUR, 2 ** 53 + 2);
    assert.equal(sumShards(terms).activeProducts, 3);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_AMOUNT } from '../../../src/domain/money.ts';
import { snapshotWatermark } from '../../../src/projections/views/catalog-stats/query.ts';
import {
  applyChange,
  contribution,
  emptyShard,
  emptyStats,
  sumShards,
  unchangedSince,
} from '../../../src/projections/views/catalog-stats/view.ts';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const MAX_STOCK = Number.MAX_SAFE_INTEGER;

describe('catalog stats', () => {
  test('an active product counts its stock and stock x price; a discontinued one only counts itself', () => {
    assert.deepEqual(contribution({ status: 'active', stock: 3, price: eur(250) }), {
      activeProducts: 1,
      discontinuedProducts: 0,
      stockUnits: 3n,
      inventoryValue: { EUR: 750n },
    });
    assert.deepEqual(contribution({ status: 'discontinued', stock: 3, price: eur(250) }), {
      ...emptyStats(),
      discontinuedProducts: 1,
    });
  });

  test('one product at the largest stock and price is worth exactly their product, far past 2^53', () => {
    const { inventoryValue } = contribution({ status: 'active', stock: MAX_STOCK, price: eur(MAX_AMOUNT) });
    assert.equal(inventoryValue.EUR, 9_007_199_254_740_991_000_000_000_000n);
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
    assert.deepEqual(stats.inventoryValue, { USD: 600n });
    stats = applyChange(
      stats,
      { status: 'active', stock: 2, price: { amount: 300, currency: 'USD' } },
      {
        status: 'discontinued',
        stock: 2,
        price: { amount: 300, currency: 'USD' },
      },
    );
    assert.deepEqual(stats, { activeProducts: 0, discontinuedProducts: 1, stockUnits: 0n, inventoryValue: {} });
  });

  test('two products of stock 2^53 - 1 in one shard, then one unit reserved, count exactly', () => {
    const full = { status: 'active' as const, stock: MAX_STOCK, price: eur(1) };
    let stats = applyChange(applyChange(emptyStats(), null, full), null, full);
    assert.equal(stats.stockUnits, 18_014_398_509_481_982n);
    stats = applyChange(stats, full, { ...full, stock: MAX_STOCK - 1 });
    // No double is 2^54 - 3 (they are 2 apart there): as doubles, reserving one unit takes two.
    assert.equal(stats.stockUnits, 18_014_398_509_481_981n);
    assert.equal(stats.inventoryValue.EUR, 18_014_398_509_481_981n);
  });

  test('shards sum per currency', () => {
    const a = { ...emptyShard(0), activeProducts: 2, stockUnits: 5n, inventoryValue: { EUR: 10n, USD: 1n } };
    const b = {
      ...emptyShard(1),
      activeProducts: 1,
      discontinuedProducts: 4,
      stockUnits: 1n,
      inventoryValue: { EUR: 5n },
    };
    assert.deepEqual(sumShards([a, b]), {
      activeProducts: 3,
      discontinuedProducts: 4,
      stockUnits: 6n,
      inventoryValue: { EUR: 15n, USD: 1n },
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

  test('sums past 2^53 are exact and the same in any order', () => {
    const terms = [2n ** 53n, 1n, 1n].map((value) => ({
      ...emptyStats(),
      activeProducts: 1,
      stockUnits: value,
      inventoryValue: { EUR: value },
    }));
    // Doubles added left to right give 2^53 (each +1 rounds away); the exact sum is 2^53 + 2.
    assert.equal(sumShards(terms).inventoryValue.EUR, 2n ** 53n + 2n);
    assert.equal(sumShards([...terms].reverse()).stockUnits, 2n ** 53n + 2n);
    assert.equal(sumShards(terms).activeProducts, 3);
  });
});

describe('a shard as its writer left it', () => {
  const written = {
    ...emptyShard(3),
    offset: 41,
    watermark: new Date('2026-11-30T20:00:00.100Z'),
    updatedAt: new Date('2026-11-30T20:00:00.120Z'),
  };

  test('is unchanged when offset, watermark and time of writing are the ones written', () => {
    assert.equal(unchangedSince(structuredClone(written), written), true);
  });

  test('is changed by another writer: a chunk (offset), a watermark tick, or a rewrite at another time', () => {
    assert.equal(unchangedSince({ ...written, offset: 42 }, written), false);
    assert.equal(unchangedSince({ ...written, watermark: new Date(written.watermark.getTime() + 1) }, written), false);
    assert.equal(unchangedSince({ ...written, updatedAt: new Date(written.updatedAt.getTime() + 1) }, written), false);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fromShardDoc,
  type StatsShardDoc,
  toShardDoc,
} from '../../../src/projections/views/catalog-stats/shard-doc.ts';
import { emptyShard } from '../../../src/projections/views/catalog-stats/view.ts';

const big = 2n ** 54n - 3n;

describe('a stats shard as stored', () => {
  test('keeps counters past 2^53 as decimal strings and reads them back exactly', () => {
    const shard = {
      ...emptyShard(3),
      activeProducts: 2,
      stockUnits: big,
      inventoryValue: { EUR: big * 10n, USD: -1n },
    };
    const doc = toShardDoc(shard);
    assert.equal(doc.stockUnits, '18014398509481981');
    assert.deepEqual(doc.inventoryValue, { EUR: '180143985094819810', USD: '-1' });
    assert.deepEqual(fromShardDoc(structuredClone(doc)), shard);
  });

  test('reads a shard an older version wrote with numbers', () => {
    const legacy: StatsShardDoc = { ...toShardDoc(emptyShard(0)), stockUnits: 12, inventoryValue: { EUR: 2 ** 60 } };
    const shard = fromShardDoc(legacy);
    assert.equal(shard.stockUnits, 12n);
    assert.equal(shard.inventoryValue.EUR, 2n ** 60n);
  });

  test('refuses a counter that is not an integer, naming the shard and field', () => {
    for (const value of ['', '1.5', '0x10', ' 7', 1.5, Number.NaN]) {
      assert.throws(
        () => fromShardDoc({ ...toShardDoc(emptyShard(1)), inventoryValue: { EUR: value } }),
        /catalog_stats shard p1: inventoryValue\.EUR holds/,
      );
    }
  });
});

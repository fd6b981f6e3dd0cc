import type { StatsShard } from './view.ts';

/**
 * A stats shard as MongoDB holds it: stock units and values as decimal strings, which FerretDB and
 * MongoDB store and return as they are, where a BSON double stops being exact at 2^53. The actor
 * computes the next shard in BigInt and replaces the whole document (see `ViewStore.writeShard`), so
 * no counter is ever added to by the database.
 */
export interface StatsShardDoc extends Omit<StatsShard, 'stockUnits' | 'inventoryValue'> {
  stockUnits: StoredCounter;
  inventoryValue: Record<string, StoredCounter>;
}

/** A number is a counter written by a version that kept them as doubles; read it as it stands. */
type StoredCounter = string | number;

export const toShardDoc = (shard: StatsShard): StatsShardDoc => ({
  ...shard,
  stockUnits: shard.stockUnits.toString(),
  inventoryValue: Object.fromEntries(
    Object.entries(shard.inventoryValue).map(([currency, value]) => [currency, value.toString()]),
  ),
});

export const fromShardDoc = (doc: StatsShardDoc): StatsShard => ({
  ...doc,
  stockUnits: counter(doc.stockUnits, doc._id, 'stockUnits'),
  inventoryValue: Object.fromEntries(
    Object.entries(doc.inventoryValue).map(([currency, value]) => [
      currency,
      counter(value, doc._id, `inventoryValue.${currency}`),
    ]),
  ),
});

const INTEGER = /^-?\d+$/;

function counter(value: StoredCounter, shard: string, field: string): bigint {
  if (typeof value === 'string' ? INTEGER.test(value) : Number.isInteger(value)) return BigInt(value);
  throw new Error(`catalog_stats shard ${shard}: ${field} holds ${JSON.stringify(value)}, not an integer`);
}

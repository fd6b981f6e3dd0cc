import type { ProductDoc } from '../products/view.ts';

export const CATALOG_STATS = 'catalog_stats';

/**
 * Stock units and inventory value count active products only: a discontinued product can be neither
 * reserved nor restocked, so its stock is no longer inventory the catalog sells.
 *
 * Stock units and values are BigInt: a stock may be any safe integer and a price up to 10^12
 * (`MAX_AMOUNT`), so one product's stock x price, and two products' stock, already pass 2^53, past
 * which a double is not exact. The product counts stay numbers: each counts one document, and no
 * view holds 2^53 documents.
 */
export interface CatalogStats {
  activeProducts: number;
  discontinuedProducts: number;
  stockUnits: bigint;
  /** Minor units per ISO 4217 currency. */
  inventoryValue: Record<string, bigint>;
}

/**
 * One shard per partition, written only by that partition's actor. `offset` is the last partition
 * offset counted in the shard: a redelivered record at or below it adds nothing, so the sum stays exact
 * under duplicates and crashes without a transaction. The shard is written before the product
 * documents of a batch, so a product document never reflects an event the stats have not counted.
 * `watermark` promises that every product version with `validFrom <= watermark` is written.
 * MongoDB holds it as a `StatsShardDoc` (see shard-doc.ts).
 */
export interface StatsShard extends CatalogStats {
  _id: string;
  partition: number;
  offset: number;
  watermark: Date;
  lastEventAt: Date | null;
  updatedAt: Date;
}

export const shardId = (partition: number): string => `p${partition}`;

/**
 * Whether the shard MongoDB holds is the one a writer last wrote: every chunk and every watermark
 * tick of a partition writes its shard, each with a later watermark and its own time, so another
 * writer of the partition since then would have changed one of the three.
 */
export const unchangedSince = (stored: StatsShard, written: StatsShard): boolean =>
  stored.offset === written.offset &&
  stored.watermark.getTime() === written.watermark.getTime() &&
  stored.updatedAt.getTime() === written.updatedAt.getTime();

export const emptyStats = (): CatalogStats => ({
  activeProducts: 0,
  discontinuedProducts: 0,
  stockUnits: 0n,
  inventoryValue: {},
});

export const emptyShard = (partition: number): StatsShard => ({
  _id: shardId(partition),
  partition,
  offset: -1,
  watermark: new Date(0),
  lastEventAt: null,
  updatedAt: new Date(0),
  ...emptyStats(),
});

type Counted = Pick<ProductDoc, 'status' | 'stock' | 'price'>;

/** What one product adds to the catalog totals. */
export function contribution(product: Counted | null): CatalogStats {
  if (product === null) return emptyStats();
  if (product.status === 'discontinued') return { ...emptyStats(), discontinuedProducts: 1 };
  const stock = BigInt(product.stock);
  return {
    activeProducts: 1,
    discontinuedProducts: 0,
    stockUnits: stock,
    inventoryValue: { [product.price.currency]: stock * BigInt(product.price.amount) },
  };
}

export function addStats(a: CatalogStats, b: CatalogStats, sign: 1 | -1 = 1): CatalogStats {
  const inventoryValue = { ...a.inventoryValue };
  for (const [currency, value] of Object.entries(b.inventoryValue)) {
    const total = (inventoryValue[currency] ?? 0n) + BigInt(sign) * value;
    if (total === 0n) delete inventoryValue[currency];
    else inventoryValue[currency] = total;
  }
  return {
    activeProducts: a.activeProducts + sign * b.activeProducts,
    discontinuedProducts: a.discontinuedProducts + sign * b.discontinuedProducts,
    stockUnits: a.stockUnits + BigInt(sign) * b.stockUnits,
    inventoryValue,
  };
}

/** Totals after one product went from `before` to `after`. */
export const applyChange = (stats: CatalogStats, before: Counted | null, after: Counted | null): CatalogStats =>
  addStats(addStats(stats, contribution(after)), contribution(before), -1);

/**
 * Totals of many (every product of a catalog, for `verify`), added in place: exact and the same in
 * any order, as every counter is an integer added without rounding.
 */
export function sumStats(items: Iterable<CatalogStats>): CatalogStats {
  let activeProducts = 0;
  let discontinuedProducts = 0;
  let stockUnits = 0n;
  const values = new Map<string, bigint>();
  for (const item of items) {
    activeProducts += item.activeProducts;
    discontinuedProducts += item.discontinuedProducts;
    stockUnits += item.stockUnits;
    for (const [currency, value] of Object.entries(item.inventoryValue)) {
      values.set(currency, (values.get(currency) ?? 0n) + value);
    }
  }
  const inventoryValue: Record<string, bigint> = {};
  for (const [currency, value] of values) if (value !== 0n) inventoryValue[currency] = value;
  return { activeProducts, discontinuedProducts, stockUnits, inventoryValue };
}

export const sumShards = (shards: Iterable<CatalogStats>): CatalogStats => sumStats(shards);

export const countersOf = (shard: StatsShard): CatalogStats => ({
  activeProducts: shard.activeProducts,
  discontinuedProducts: shard.discontinuedProducts,
  stockUnits: shard.stockUnits,
  inventoryValue: { ...shard.inventoryValue },
});

import type { Collection, Filter, FindCursor, Sort } from '../../../infra/mongo.ts';
import { type ProductVersionDoc, pruneBucketOf } from './versions.ts';
import type { ProductDoc, ProductStatus } from './view.ts';

export const PRODUCT_SORTS = ['name', 'price', '-price', 'updatedAt', '-updatedAt'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

export interface ProductFilters {
  status?: ProductStatus;
  minPrice?: number;
  maxPrice?: number;
  currency?: string;
  /** Matches names that contain it, case-insensitively; never interpreted as a pattern. */
  q?: string;
}

export type SortKey = string | number | Date;

export interface ListRequest {
  filters: ProductFilters;
  sort: ProductSort;
  limit: number;
  /** The instant the whole pagination reads the catalog at (see versions.ts). */
  snapshot: Date;
  /** The last item of the previous page. */
  after?: { key: SortKey; id: string };
  /** Sent as maxTimeMS: the server gives up on the query after this long. */
  timeLimitMs?: number;
}

/** A product as it was at the snapshot, from either collection. */
export type ListedProduct = Omit<ProductDoc, '_id'>;

export interface ListPage {
  items: ListedProduct[];
  /** Present when more items follow the page. */
  last?: { key: SortKey; id: string };
}

const SORTS: Record<ProductSort, { field: 'name' | 'price.amount' | 'updatedAt'; direction: 1 | -1 }> = {
  name: { field: 'name', direction: 1 },
  price: { field: 'price.amount', direction: 1 },
  '-price': { field: 'price.amount', direction: -1 },
  updatedAt: { field: 'updatedAt', direction: 1 },
  '-updatedAt': { field: 'updatedAt', direction: -1 },
};

export const sortKeyOf = (sort: ProductSort, product: ListedProduct): SortKey => {
  const { field } = SORTS[sort];
  return field === 'name' ? product.name : field === 'updatedAt' ? product.updatedAt : product.price.amount;
};

export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The MongoDB filter for the query's own conditions; every value is typed, never taken as an operator. */
export function filterFor(filters: ProductFilters): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (filters.status !== undefined) filter.status = filters.status;
  if (filters.currency !== undefined) filter['price.currency'] = filters.currency;
  if (filters.minPrice !== undefined || filters.maxPrice !== undefined) {
    filter['price.amount'] = {
      ...(filters.minPrice !== undefined ? { $gte: filters.minPrice } : {}),
      ...(filters.maxPrice !== undefined ? { $lte: filters.maxPrice } : {}),
    };
  }
  if (filters.q !== undefined) filter.name = { $regex: escapeRegex(filters.q), $options: 'i' };
  return filter;
}

/** Items strictly after the cursor in sort order; `id` breaks ties, so the order is total. */
export function afterFilter(sort: ProductSort, after: { key: SortKey; id: string }): Record<string, unknown> {
  const { field, direction } = SORTS[sort];
  const op = direction === 1 ? '$gt' : '$lt';
  return { $or: [{ [field]: { [op]: after.key } }, { [field]: after.key, id: { [op]: after.id } }] };
}

/** Order of two items given by sort key and id; `id` breaks ties, so the order is total. */
export function compareSortKeys(sort: ProductSort, ka: SortKey, ida: string, kb: SortKey, idb: string): number {
  const byKey = ka < kb ? -1 : ka > kb ? 1 : 0;
  return SORTS[sort].direction * (byKey !== 0 ? byKey : ida < idb ? -1 : ida > idb ? 1 : 0);
}

export function compareListed(sort: ProductSort, a: ListedProduct, b: ListedProduct): number {
  return compareSortKeys(sort, sortKeyOf(sort, a), a.id, sortKeyOf(sort, b), b.id);
}

/**
 * One page of the catalog as it was at `request.snapshot`: current documents that were already current
 * then, merged with the superseded versions that were current then. The two sets hold one version per
 * product, except while a product document is being replaced, when both briefly hold the same one.
 */
export async function listProducts(
  products: Collection<ProductDoc>,
  versions: Collection<ProductVersionDoc>,
  request: ListRequest,
  /** How long superseded versions are kept: older buckets are empty. */
  retentionMs: number,
  now = Date.now(),
): Promise<ListPage> {
  const { sort, limit, snapshot, after } = request;
  const { field, direction } = SORTS[sort];
  // One flat filter (its keys never collide): FerretDB evaluates top-level equalities in PostgreSQL.
  const conditions = { ...filterFor(request.filters), ...(after ? afterFilter(sort, after) : {}) };
  const order: Sort = { [field]: direction, id: direction };
  const page = <T>(found: FindCursor<T>) => {
    const sorted = found.sort(order).limit(limit + 1);
    return (request.timeLimitMs === undefined ? sorted : sorted.maxTimeMS(request.timeLimitMs)).toArray();
  };
  // A version current at the snapshot was superseded after it: only the buckets since then can hold one.
  const buckets: number[] = [];
  const first = Math.max(pruneBucketOf(snapshot.getTime()), pruneBucketOf(now - retentionMs) - 1);
  for (let b = first; b <= pruneBucketOf(now) + 1; b++) buckets.push(b);
  const [current, ...superseded] = await Promise.all([
    page(products.find({ ...conditions, validFrom: { $lte: snapshot } } as Filter<ProductDoc>)),
    ...buckets.map((pruneBucket) =>
      page(
        versions.find({
          ...conditions,
          pruneBucket,
          validFrom: { $lte: snapshot },
          validTo: { $gt: snapshot },
        } as Filter<ProductVersionDoc>),
      ),
    ),
  ]);
  const merged: ListedProduct[] = [];
  const seen = new Set<string>();
  for (const doc of [...current, ...superseded.flat()].sort((a, b) => compareListed(sort, a, b))) {
    if (seen.has(doc.id)) continue;
    seen.add(doc.id);
    const { _id, ...listed } = doc;
    merged.push(listed);
  }
  const items = merged.slice(0, limit);
  const lastItem = items.at(-1);
  return merged.length > limit && lastItem
    ? { items, last: { key: sortKeyOf(sort, lastItem), id: lastItem.id } }
    : { items };
}

export async function findProduct(products: Collection<ProductDoc>, id: string): Promise<ProductDoc | null> {
  return products.findOne({ _id: id });
}

import type { Collection, Filter, FindCursor, Sort } from '../../../infra/mongo.ts';
import {
  assemblePage,
  compareListed,
  type IndexedConditions,
  indexedConditions,
  LIST_WALK_BUDGET,
  type ListedProduct,
  type ListPage,
  type ListPosition,
  type ListRequest,
  type ListWalk,
  type ProductSort,
  residualMatcher,
  SORTS,
} from './list-rules.ts';
import { type ProductVersionDoc, pruneBucketOf } from './versions.ts';
import type { ProductDoc } from './view.ts';

/** The MongoDB filter for the conditions an index answers (see list-rules.ts); every value is typed, never an operator. */
export function filterFor(conditions: IndexedConditions): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (conditions.status !== undefined) filter.status = conditions.status;
  if (conditions.currency !== undefined) filter['price.currency'] = conditions.currency;
  if (conditions.minPrice !== undefined || conditions.maxPrice !== undefined) {
    filter['price.amount'] = {
      ...(conditions.minPrice !== undefined ? { $gte: conditions.minPrice } : {}),
      ...(conditions.maxPrice !== undefined ? { $lte: conditions.maxPrice } : {}),
    };
  }
  return filter;
}

/**
 * Items strictly after the position in sort order; `id` breaks ties, so the order is total. MongoDB
 * and FerretDB compare strings by their UTF-8 bytes, which is the code point order of list-rules.ts.
 */
export function afterFilter(sort: ProductSort, after: ListPosition): Record<string, unknown> {
  const { field, direction } = SORTS[sort];
  const op = direction === 1 ? '$gt' : '$lt';
  return { $or: [{ [field]: { [op]: after.key } }, { [field]: after.key, id: { [op]: after.id } }] };
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
  const conditions = {
    ...filterFor(indexedConditions(sort, request.filters)),
    ...(after ? afterFilter(sort, after) : {}),
  };
  const order: Sort = { [field]: direction, id: direction };
  // Every product a query returns meets the walk's conditions. Without conditions left to check,
  // the page ends at its (limit + 1)th product; with some, it may walk the whole budget. Each
  // product of the merged walk's first n is among the first n of its own query, so fetching that
  // many of each is enough.
  const budget = request.walkBudget ?? LIST_WALK_BUDGET;
  const fetch = residualMatcher(sort, request.filters) ? budget + 1 : limit + 1;
  const page = <T>(found: FindCursor<T>) => {
    const sorted = found.sort(order).limit(fetch);
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
  // The servers sorted each query; the merge orders by the one collation of list-rules.ts.
  const merged = [...current, ...superseded.flat()]
    .map(({ _id, ...listed }: ListedProduct & { _id: string }) => listed as ListedProduct)
    .sort((a, b) => compareListed(sort, a, b));
  return assemblePage(request, arrayWalk(merged));
}

/**
 * The merged query results as a walk. A product can come twice in a row (from the products and the
 * versions collections, while its document is being replaced): it is walked once.
 */
function arrayWalk(items: readonly ListedProduct[]): ListWalk {
  let at = 0;
  const walk: ListWalk = {
    product: items[0] as ListedProduct,
    name: '',
    price: 0,
    current: true,
    next: () => {
      if (at > 0) while (at < items.length && (items[at] as ListedProduct).id === walk.product.id) at += 1;
      const product = items[at];
      if (!product) return false;
      at += 1;
      walk.product = product;
      walk.name = product.name;
      walk.price = product.price.amount;
      return true;
    },
    more: () => {
      let next = at;
      while (next < items.length && (items[next] as ListedProduct).id === walk.product.id) next += 1;
      return next < items.length;
    },
  };
  return walk;
}

export async function findProduct(products: Collection<ProductDoc>, id: string): Promise<ProductDoc | null> {
  return products.findOne({ _id: id });
}

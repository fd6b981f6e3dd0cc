import {
  compareListed,
  compareSortKeys,
  escapeRegex,
  type ListedProduct,
  type ListPage,
  type ListRequest,
  type ProductFilters,
  sortKeyOf,
} from './query.ts';
import type { ProductVersionDoc } from './versions.ts';
import type { ProductDoc } from './view.ts';

/**
 * What one partition actor holds of its partition: every product document and every version it
 * superseded since it loaded, exactly as written to MongoDB (documents enter memory only once
 * MongoDB has acknowledged them).
 */
export interface PartitionCatalog {
  products: Iterable<ProductDoc>;
  /** Ordered by `validTo`. */
  versions: readonly ProductVersionDoc[];
  /** Everything valid from this instant or earlier is written: a list snapshot may be taken at it. */
  writtenUpTo: number;
  /** Versions superseded before this instant are not in `versions`: older snapshots need MongoDB. */
  loadedAt: number;
}

/** Whether `catalogs` can answer a list at `snapshot`, exactly as MongoDB would. */
export function canListAt(catalogs: readonly PartitionCatalog[], snapshot: Date): boolean {
  const t = snapshot.getTime();
  return catalogs.every((c) => c.loadedAt <= t && t <= c.writtenUpTo);
}

/** The latest instant every partition has fully written: a new pagination's snapshot. */
export const memorySnapshot = (catalogs: readonly PartitionCatalog[]): Date =>
  new Date(Math.min(...catalogs.map((c) => c.writtenUpTo)));

function matcher(filters: ProductFilters): (doc: ListedProduct) => boolean {
  const { status, currency, minPrice, maxPrice, q } = filters;
  const name = q === undefined ? undefined : new RegExp(escapeRegex(q), 'i');
  return (doc) =>
    (status === undefined || doc.status === status) &&
    (currency === undefined || doc.price.currency === currency) &&
    (minPrice === undefined || doc.price.amount >= minPrice) &&
    (maxPrice === undefined || doc.price.amount <= maxPrice) &&
    (name === undefined || name.test(doc.name));
}

/** Index of the first version (ordered by validTo) still valid after `t`. */
function firstEndingAfter(versions: readonly ProductVersionDoc[], t: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid] as ProductVersionDoc).validTo.getTime() > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The page `listProducts` reads from MongoDB, computed from the partition actors' memory: the same
 * filters, the same snapshot rule (documents valid at the snapshot, current or superseded), the
 * same order and cursor. One pass keeps the best `limit + 1` items, so a page costs one look at each
 * product instead of a sort of the catalog.
 */
export function listFromMemory(catalogs: readonly PartitionCatalog[], request: ListRequest): ListPage {
  const { sort, limit, snapshot, after } = request;
  const t = snapshot.getTime();
  const matches = matcher(request.filters);
  const best: ListedProduct[] = [];
  const order = (a: ListedProduct, b: ListedProduct) => compareListed(sort, a, b);
  const consider = (doc: ListedProduct) => {
    if (after && compareSortKeys(sort, sortKeyOf(sort, doc), doc.id, after.key, after.id) <= 0) return;
    if (best.length > limit && order(doc, best[limit] as ListedProduct) >= 0) return;
    if (!matches(doc)) return;
    let at = best.length;
    while (at > 0 && order(doc, best[at - 1] as ListedProduct) < 0) at -= 1;
    best.splice(at, 0, doc);
    if (best.length > limit + 1) best.pop();
  };
  for (const catalog of catalogs) {
    for (const doc of catalog.products) if (doc.validFrom.getTime() <= t) consider(doc);
    const { versions } = catalog;
    for (let i = firstEndingAfter(versions, t); i < versions.length; i++) {
      const version = versions[i] as ProductVersionDoc;
      if (version.validFrom.getTime() <= t) consider(version);
    }
  }
  const items = best.slice(0, limit).map(({ _id, ...listed }: ListedProduct & { _id?: string }) => listed);
  const lastItem = items.at(-1);
  return best.length > limit && lastItem
    ? { items, last: { key: sortKeyOf(sort, lastItem), id: lastItem.id } }
    : { items };
}

import type { ProductDoc, ProductStatus } from './view.ts';

/**
 * The one definition of a product list, which both engines (the projection's memory and MongoDB)
 * follow, so that either gives the same pages and a cursor from one continues on the other:
 *
 * - Order: by the sort key, then by product id. Names compare by Unicode code point, case-sensitive
 *   (`compareText`): the order of their UTF-8 bytes, which is how MongoDB's simple collation and
 *   FerretDB compare strings. JavaScript's own `<` compares UTF-16 code units, which puts names
 *   outside the Basic Multilingual Plane before U+E000..U+FFFF.
 * - Walk: the products in that order, from the cursor's position on, that were current at the
 *   pagination's snapshot and pass the conditions an index answers (`indexedConditions`: status,
 *   currency, and the price range under a price sort). The other conditions (`q`, a price range
 *   under another sort) are checked on each walked product, by the same code for both engines.
 * - Budget: a page walks at most `walkBudget` products. When it stops there, it answers the items
 *   found so far with a cursor at the last product walked, so a query that matches little costs at
 *   most the budget per page instead of a pass over the catalog.
 * - `q`: names containing it, compared under Unicode simple case folding (`/iu`), taken literally.
 */

export const PRODUCT_SORTS = ['name', 'price', '-price', 'updatedAt', '-updatedAt'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** Products a page walks at most (see the module comment); documented in the README and the OpenAPI. */
export const LIST_WALK_BUDGET = 500;

export interface ProductFilters {
  status?: ProductStatus;
  minPrice?: number;
  maxPrice?: number;
  currency?: string;
  /** Matches names that contain it, case-insensitively; never interpreted as a pattern. */
  q?: string;
}

export type SortKey = string | number | Date;

/** A position in a sort order: a product's key and id. Cursors carry one. */
export interface ListPosition {
  key: SortKey;
  id: string;
}

export interface ListRequest {
  filters: ProductFilters;
  sort: ProductSort;
  limit: number;
  /** The instant the whole pagination reads the catalog at (see versions.ts). */
  snapshot: Date;
  /** Where the previous page stopped. */
  after?: ListPosition;
  /** Products a page walks at most; `LIST_WALK_BUDGET` unless a test says otherwise. */
  walkBudget?: number;
  /** Sent as maxTimeMS: the server gives up on the query after this long. */
  timeLimitMs?: number;
}

/** A product as it was at the snapshot, from either collection. */
export type ListedProduct = Omit<ProductDoc, '_id'>;

export interface ListPage {
  items: ListedProduct[];
  /** Where the next page starts from; present when more may follow. */
  last?: ListPosition;
}

export type SortField = 'name' | 'price.amount' | 'updatedAt';

export const SORTS: Record<ProductSort, { field: SortField; direction: 1 | -1 }> = {
  name: { field: 'name', direction: 1 },
  price: { field: 'price.amount', direction: 1 },
  '-price': { field: 'price.amount', direction: -1 },
  updatedAt: { field: 'updatedAt', direction: 1 },
  '-updatedAt': { field: 'updatedAt', direction: -1 },
};

const SURROGATES = 0xd800;
const PRIVATE_USE = 0xe000;

/**
 * Code point order. UTF-16 code units already order code points except that surrogates
 * (U+D800..U+DFFF, which encode U+10000 and above) sort below U+E000..U+FFFF; the first differing
 * units are lifted so that they sort above.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= SURROGATES && y >= SURROGATES) {
      x += x < PRIVATE_USE ? 0x2000 : -0x800;
      y += y < PRIVATE_USE ? 0x2000 : -0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * A string whose UTF-16 order (JavaScript's `<`) is `text`'s code point order: the same string when
 * it has no code unit from U+D800 on (the common case, no copy); otherwise those units are moved so
 * that surrogates sort above U+E000..U+FFFF, the fix-up `compareText` applies at the first difference.
 */
export function textSortKey(text: string): string {
  if (!/[\uD800-\uFFFF]/.test(text)) return text;
  let key = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    key += String.fromCharCode(unit < SURROGATES ? unit : unit < PRIVATE_USE ? unit + 0x2000 : unit - 0x800);
  }
  return key;
}

/** Product ids are lowercase UUIDs (ASCII), where code units and code points agree. */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const sortKeyOf = (sort: ProductSort, product: ListedProduct): SortKey => {
  const { field } = SORTS[sort];
  return field === 'name' ? product.name : field === 'updatedAt' ? product.updatedAt : product.price.amount;
};

const byName = (a: ListedProduct, b: ListedProduct): number => compareText(a.name, b.name) || compareIds(a.id, b.id);
const byPrice = (a: ListedProduct, b: ListedProduct): number =>
  a.price.amount - b.price.amount || compareIds(a.id, b.id);
const byUpdatedAt = (a: ListedProduct, b: ListedProduct): number =>
  a.updatedAt.getTime() - b.updatedAt.getTime() || compareIds(a.id, b.id);

/** Ascending order of products under `field` (by key, then id). */
const compareByField = (field: SortField): ((a: ListedProduct, b: ListedProduct) => number) =>
  field === 'name' ? byName : field === 'price.amount' ? byPrice : byUpdatedAt;

/** Order of two products in the list's order (direction included). */
export const compareListed = (sort: ProductSort, a: ListedProduct, b: ListedProduct): number =>
  SORTS[sort].direction * compareByField(SORTS[sort].field)(a, b);

export const positionOf = (sort: ProductSort, product: ListedProduct): ListPosition => ({
  key: sortKeyOf(sort, product),
  id: product.id,
});

export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The `q` rule: a literal, case-insensitive (Unicode simple case folding) substring of the name. */
export function nameMatcher(q: string): (name: string) => boolean {
  const pattern = new RegExp(escapeRegex(q), 'iu');
  return (name) => pattern.test(name);
}

const isPriceSort = (sort: ProductSort): boolean => SORTS[sort].field === 'price.amount';

/** The conditions an index answers: the engines walk only products that meet them. */
export interface IndexedConditions {
  status?: ProductStatus;
  currency?: string;
  /** Inclusive price bounds, only under a price sort. */
  minPrice?: number;
  maxPrice?: number;
}

export function indexedConditions(sort: ProductSort, filters: ProductFilters): IndexedConditions {
  const price = isPriceSort(sort) ? { minPrice: filters.minPrice, maxPrice: filters.maxPrice } : {};
  return { status: filters.status, currency: filters.currency, ...price };
}

/** The conditions checked on each walked product (its name and price); undefined when every walked product matches. */
export function residualMatcher(
  sort: ProductSort,
  filters: ProductFilters,
): ((name: string, price: number) => boolean) | undefined {
  const { minPrice, maxPrice, q } = filters;
  const price = !isPriceSort(sort) && (minPrice !== undefined || maxPrice !== undefined);
  if (!price && q === undefined) return undefined;
  const name = q === undefined ? undefined : nameMatcher(q);
  const low = minPrice ?? Number.NEGATIVE_INFINITY;
  const high = maxPrice ?? Number.POSITIVE_INFINITY;
  return (text, amount) => (!price || (amount >= low && amount <= high)) && (name === undefined || name(text));
}

/**
 * A walk in list order. `next` moves to the next product and says whether there is one; the fields
 * then describe it (an engine may reuse one object for every product, so a page keeps `product`).
 */
export interface ListWalk {
  next(): boolean;
  /** Whether another product follows, without moving. */
  more(): boolean;
  product: ListedProduct;
  name: string;
  price: number;
  /** Whether it was current at the snapshot: the memory engine's walk also passes versions that were not. */
  current: boolean;
}

/**
 * One page from a walk, under the list's rules (the module comment): every product the walk gives
 * counts against the budget.
 */
export function assemblePage(request: ListRequest, walk: ListWalk): ListPage {
  const { sort, limit } = request;
  const budget = request.walkBudget ?? LIST_WALK_BUDGET;
  const matches = residualMatcher(sort, request.filters);
  const items: ListedProduct[] = [];
  let walked = 0;
  let last: ListedProduct | undefined;
  for (;;) {
    if (walked >= budget) {
      return last && walk.more() ? { items, last: positionOf(sort, last) } : { items };
    }
    if (!walk.next()) return { items };
    walked += 1;
    last = walk.product;
    if (!walk.current) continue;
    if (matches && !matches(walk.name, walk.price)) continue;
    if (items.length === limit) {
      return { items, last: positionOf(sort, items[limit - 1] as ListedProduct) };
    }
    items.push(walk.product);
  }
}

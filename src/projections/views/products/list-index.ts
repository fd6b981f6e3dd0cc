import { type Direction, OrderedSet, type Walk } from '../../ordered-set.ts';
import {
  compareIds,
  type IndexedConditions,
  type ListedProduct,
  type ListPosition,
  type SortField,
  textSortKey,
} from './list-rules.ts';

/**
 * A document in the index with what a walk reads of it computed once, in one object (a page walks
 * up to the budget of them, and every other object it touched would be one more cache miss): names
 * as `textSortKey` (so that the engine's own string comparison gives the code point order), times
 * as milliseconds.
 */
export interface IndexEntry<D> {
  doc: D;
  id: string;
  version: number;
  name: string;
  /** The name itself, for `q`. */
  text: string;
  price: number;
  updatedAt: number;
  validFrom: number;
  weight: number;
}

type Key = 'name' | 'price' | 'updatedAt';
const KEYS: Record<SortField, Key> = { name: 'name', 'price.amount': 'price', updatedAt: 'updatedAt' };

/** Ascending order of entries by one key, then id, then version (versions of a product may share both). */
function entryOrder(key: Key): (a: IndexEntry<unknown>, b: IndexEntry<unknown>) => number {
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    if (x !== y) return x < y ? -1 : 1;
    return compareIds(a.id, b.id) || a.version - b.version;
  };
}

const ORDERS: Record<Key, (a: IndexEntry<unknown>, b: IndexEntry<unknown>) => number> = {
  name: entryOrder('name'),
  price: entryOrder('price'),
  updatedAt: entryOrder('updatedAt'),
};

/** The order walks of `field` are merged in, direction included. */
export const walkOrder = (field: SortField, direction: Direction) => {
  const order = ORDERS[KEYS[field]];
  return direction === 1 ? order : (a: IndexEntry<unknown>, b: IndexEntry<unknown>) => order(b, a);
};

/**
 * Whether two entries share one position of a list in `field`'s order (a product's document and a
 * version it superseded, with the same key): a list cursor, a key and an id, cannot fall between them.
 */
export const samePosition = (field: SortField) => {
  const key = KEYS[field];
  return (a: IndexEntry<unknown>, b: IndexEntry<unknown>): boolean => a.id === b.id && a[key] === b[key];
};

type Trees<D> = Record<Key, OrderedSet<IndexEntry<D>>>;

interface Group<D> {
  status: string;
  currency: string;
  trees: Trees<D>;
}

/**
 * Ordered indexes over a set of product documents, one per sort field, each split by status and
 * currency (the equality filters a list may have), so a list page seeks each group it needs in
 * O(log n) and walks only products in that group.
 */
export class ListIndex<D extends ListedProduct> {
  private readonly groups = new Map<string, Group<D>>();
  private count = 0;

  /** `weight`: see `OrderedSet`; the superseded versions use their end, so walks skip the ones over. */
  constructor(private readonly weight?: (doc: D) => number) {}

  get size(): number {
    return this.count;
  }

  add(doc: D): void {
    const key = groupKey(doc.status, doc.price.currency);
    let group = this.groups.get(key);
    if (!group) {
      group = { status: doc.status, currency: doc.price.currency, trees: this.newTrees() };
      this.groups.set(key, group);
    }
    const { trees } = group;
    const entry = this.entryOf(doc);
    if (trees.name.add(entry)) {
      trees.price.add(entry);
      trees.updatedAt.add(entry);
      this.count += 1;
    }
  }

  /** Empties the index at once: deleting 140,000 documents one by one took more than a second. */
  clear(): void {
    this.groups.clear();
    this.count = 0;
  }

  delete(doc: D): void {
    const key = groupKey(doc.status, doc.price.currency);
    const trees = this.groups.get(key)?.trees;
    const entry = this.entryOf(doc);
    if (!trees?.name.delete(entry)) return;
    trees.price.delete(entry);
    trees.updatedAt.delete(entry);
    this.count -= 1;
    if (trees.name.size === 0) this.groups.delete(key);
  }

  /**
   * One walk per group meeting `conditions`, in `direction` along `field`, from just after `after`
   * (and from the price bound under a price sort), each ending at the price bound; with
   * `heavierThan`, documents of that weight or less are passed over.
   */
  walks(
    field: SortField,
    direction: Direction,
    conditions: IndexedConditions,
    after: ListPosition | undefined,
    heavierThan?: number,
  ): BoundedWalk<D>[] {
    const key = KEYS[field];
    const low = key === 'price' ? conditions.minPrice : undefined;
    const high = key === 'price' ? conditions.maxPrice : undefined;
    const [from, to] = direction === 1 ? [low, high] : [high, low];
    const order = walkOrder(field, direction);
    const position = after && positionEntry(field, direction, after);
    const started = (entry: IndexEntry<D>): boolean =>
      (position === undefined || order(entry, position) > 0) &&
      (from === undefined || direction * (entry.price - from) >= 0);
    const ended = to === undefined ? undefined : (entry: IndexEntry<D>) => direction * (entry.price - to) > 0;
    const found: BoundedWalk<D>[] = [];
    for (const { status, currency, trees } of this.groups.values()) {
      if (conditions.status !== undefined && conditions.status !== status) continue;
      if (conditions.currency !== undefined && conditions.currency !== currency) continue;
      const walk = trees[key].walk(direction, started, heavierThan);
      if (walk.current !== undefined && !ended?.(walk.current)) found.push(new BoundedWalk(walk, ended));
    }
    return found;
  }

  private entryOf(doc: D): IndexEntry<D> {
    return {
      doc,
      id: doc.id,
      version: doc.version,
      name: textSortKey(doc.name),
      text: doc.name,
      price: doc.price.amount,
      updatedAt: doc.updatedAt.getTime(),
      validFrom: doc.validFrom.getTime(),
      weight: this.weight ? this.weight(doc) : 0,
    };
  }

  private newTrees(): Trees<D> {
    const options = this.weight ? { weight: (entry: IndexEntry<D>) => entry.weight } : {};
    return {
      name: new OrderedSet(ORDERS.name, options),
      price: new OrderedSet(ORDERS.price, options),
      updatedAt: new OrderedSet(ORDERS.updatedAt, options),
    };
  }
}

/** A cursor's position as an entry, comparable with the entries of `field`'s trees. */
function positionEntry(field: SortField, direction: Direction, after: ListPosition): IndexEntry<unknown> {
  const key = after.key;
  // The walk goes on after every version of the position's product at its key.
  const version = direction * Number.POSITIVE_INFINITY;
  const base = { doc: undefined, id: after.id, version, text: '', validFrom: 0, weight: 0 };
  if (field === 'name') return { ...base, name: textSortKey(key as string), price: 0, updatedAt: 0 };
  const value = key instanceof Date ? key.getTime() : (key as number);
  return { ...base, name: '', price: value, updatedAt: value };
}

/** A walk over one tree that ends where `ended` first holds (the far price bound). */
export class BoundedWalk<D> {
  current: IndexEntry<D> | undefined;

  constructor(
    private readonly walk: Walk<IndexEntry<D>>,
    private readonly ended: ((entry: IndexEntry<D>) => boolean) | undefined,
  ) {
    this.current = walk.current;
  }

  advance(): IndexEntry<D> | undefined {
    const next = this.walk.advance();
    this.current = next === undefined || this.ended?.(next) ? undefined : next;
    return this.current;
  }
}

// Currency codes are three capital letters and statuses words: neither holds a space.
const groupKey = (status: string, currency: string): string => `${status} ${currency}`;

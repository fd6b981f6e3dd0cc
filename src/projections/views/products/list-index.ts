import { type Direction, OrderedSet, type Walk } from '../../ordered-set.ts';
import {
  compareByField,
  comparePositions,
  type IndexedConditions,
  type ListedProduct,
  type ListPosition,
  type SortField,
} from './list-rules.ts';

type Trees<D> = Record<SortField, OrderedSet<D>>;

interface Group<D> {
  status: string;
  currency: string;
  trees: Trees<D>;
}

/**
 * Ordered indexes over a set of product documents, one per sort field, each split by status and
 * currency (the equality filters a list may have), so a list page seeks each group it needs in
 * O(log n) and walks only products in that group. Versions of one product may share key and id
 * (a stock change moves neither), so the version number breaks the last tie.
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
    if (trees.name.add(doc)) {
      trees['price.amount'].add(doc);
      trees.updatedAt.add(doc);
      this.count += 1;
    }
  }

  delete(doc: D): void {
    const key = groupKey(doc.status, doc.price.currency);
    const trees = this.groups.get(key)?.trees;
    if (!trees?.name.delete(doc)) return;
    trees['price.amount'].delete(doc);
    trees.updatedAt.delete(doc);
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
    const low = field === 'price.amount' ? conditions.minPrice : undefined;
    const high = field === 'price.amount' ? conditions.maxPrice : undefined;
    const [from, to] = direction === 1 ? [low, high] : [high, low];
    const started = (doc: D): boolean => {
      if (after && direction * comparePositions(field, { key: keyOf(field, doc), id: doc.id }, after) <= 0) {
        return false;
      }
      return from === undefined || direction * (doc.price.amount - from) >= 0;
    };
    const ended = to === undefined ? undefined : (doc: D) => direction * (doc.price.amount - to) > 0;
    const found: BoundedWalk<D>[] = [];
    for (const { status, currency, trees } of this.groups.values()) {
      if (conditions.status !== undefined && conditions.status !== status) continue;
      if (conditions.currency !== undefined && conditions.currency !== currency) continue;
      const walk = trees[field].walk(direction, started, heavierThan);
      if (walk.current !== undefined && !ended?.(walk.current)) found.push(new BoundedWalk(walk, ended));
    }
    return found;
  }

  private newTrees(): Trees<D> {
    const options = this.weight ? { weight: this.weight } : {};
    const tree = (field: SortField) =>
      new OrderedSet<D>((a, b) => compareByField(field, a, b) || a.version - b.version, options);
    return { name: tree('name'), 'price.amount': tree('price.amount'), updatedAt: tree('updatedAt') };
  }
}

/** A walk over one tree that ends where `ended` first holds (the far price bound). */
export class BoundedWalk<D> {
  current: D | undefined;

  constructor(
    private readonly walk: Walk<D>,
    private readonly ended: ((doc: D) => boolean) | undefined,
  ) {
    this.current = walk.current;
  }

  advance(): D | undefined {
    const next = this.walk.advance();
    this.current = next === undefined || this.ended?.(next) ? undefined : next;
    return this.current;
  }
}

const keyOf = (field: SortField, doc: ListedProduct) =>
  field === 'name' ? doc.name : field === 'updatedAt' ? doc.updatedAt : doc.price.amount;

// Currency codes are three capital letters and statuses words: neither holds a space.
const groupKey = (status: string, currency: string): string => `${status} ${currency}`;

import type { ListIndex } from './list-index.ts';
import {
  assemblePage,
  compareByField,
  indexedConditions,
  type ListedProduct,
  type ListPage,
  type ListRequest,
  type ListWalk,
  SORTS,
  type SortField,
} from './list-rules.ts';
import type { ProductVersionDoc } from './versions.ts';
import type { ProductDoc } from './view.ts';

/**
 * What one partition actor holds of its partition, indexed for lists: every product document and
 * every version it superseded since it loaded, exactly as written to MongoDB (documents enter memory
 * only once MongoDB has acknowledged them).
 */
export interface PartitionCatalog {
  current: ListIndex<ProductDoc>;
  /** Weighted by `validTo`, so a walk at a snapshot skips the versions that ended before it. */
  superseded: ListIndex<ProductVersionDoc>;
  /** Everything valid from this instant or earlier is written: a list snapshot may be taken at it. */
  writtenUpTo: number;
  /** Versions superseded before this instant are not in `superseded`: older snapshots need MongoDB. */
  loadedAt: number;
}

/** One index walk, as the merge sees it. */
interface IndexWalk {
  readonly current: ListedProduct | undefined;
  advance(): ListedProduct | undefined;
}

/** Whether `catalogs` can answer a list at `snapshot`, exactly as MongoDB would. */
export function canListAt(catalogs: readonly PartitionCatalog[], snapshot: Date): boolean {
  const t = snapshot.getTime();
  return catalogs.every((c) => c.loadedAt <= t && t <= c.writtenUpTo);
}

/** The latest instant every partition has fully written: a new pagination's snapshot. */
export const memorySnapshot = (catalogs: readonly PartitionCatalog[]): Date =>
  new Date(Math.min(...catalogs.map((c) => c.writtenUpTo)));

/**
 * The page `listProducts` reads from MongoDB, from the partition actors' indexes: the same walk (see
 * list-rules.ts), merged from one index walk per partition, group and kind (current documents,
 * superseded versions still current at the snapshot). A page costs a seek per walk, O(log n), and
 * then the products it walks, at most the budget.
 */
export function listFromMemory(catalogs: readonly PartitionCatalog[], request: ListRequest): ListPage {
  const { sort, snapshot, after } = request;
  const { field, direction } = SORTS[sort];
  const t = snapshot.getTime();
  const conditions = indexedConditions(sort, request.filters);
  const walks: IndexWalk[] = [];
  for (const catalog of catalogs) {
    walks.push(...catalog.current.walks(field, direction, conditions, after));
    walks.push(...catalog.superseded.walks(field, direction, conditions, after, t));
  }
  const page = assemblePage(request, new MergedWalk(walks, field, direction), (p) => p.validFrom.getTime() <= t);
  return { ...page, items: page.items.map(({ _id, ...listed }: ListedProduct & { _id?: string }) => listed) };
}

/** Walks in list order merged into one (a binary heap on their current items). */
class MergedWalk implements ListWalk {
  private readonly heap: IndexWalk[];
  private readonly before: (a: ListedProduct, b: ListedProduct) => boolean;

  constructor(walks: IndexWalk[], field: SortField, direction: 1 | -1) {
    this.before = (a, b) => direction * (compareByField(field, a, b) || a.version - b.version) < 0;
    this.heap = walks.filter((w) => w.current !== undefined);
    for (let i = (this.heap.length >>> 1) - 1; i >= 0; i--) this.sink(i);
  }

  more(): boolean {
    return this.heap.length > 0;
  }

  next(): ListedProduct | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const item = top.current as ListedProduct;
    if (top.advance() === undefined) {
      const last = this.heap.pop() as IndexWalk;
      if (this.heap.length > 0) this.heap[0] = last;
    }
    this.sink(0);
    return item;
  }

  private sink(start: number): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.first(l, m)) m = l;
      if (r < heap.length && this.first(r, m)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as IndexWalk, heap[i] as IndexWalk];
      i = m;
    }
  }

  private first(a: number, b: number): boolean {
    return this.before(
      (this.heap[a] as IndexWalk).current as ListedProduct,
      (this.heap[b] as IndexWalk).current as ListedProduct,
    );
  }
}

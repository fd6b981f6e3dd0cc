import { type IndexEntry, ListIndex, samePosition, walkOrder } from './list-index.ts';
import {
  assemblePage,
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
 * The product documents every partition actor of a process holds, and the versions they superseded
 * since they loaded, exactly as written to MongoDB (documents enter memory only once MongoDB has
 * acknowledged them), in one set of indexes for the process: a page walks one index per group
 * instead of merging one per partition.
 */
export interface CatalogIndex {
  current: ListIndex<ProductDoc>;
  /** Weighted by `validTo`, so a walk at a snapshot skips the versions that ended before it. */
  superseded: ListIndex<ProductVersionDoc>;
}

export const newCatalogIndex = (): CatalogIndex => ({
  current: new ListIndex<ProductDoc>(),
  superseded: new ListIndex<ProductVersionDoc>((version) => version.validTo.getTime()),
});

/** Empties both parts of the index (see `ProjectionRuntime.replaceActors`). */
export function clearCatalogIndex(index: CatalogIndex): void {
  index.current.clear();
  index.superseded.clear();
}

/** What one partition actor vouches for in the index. */
export interface PartitionCatalog {
  /** Everything valid from this instant or earlier is written: a list snapshot may be taken at it. */
  writtenUpTo: number;
  /** Versions superseded before this instant are not in the index: older snapshots need MongoDB. */
  loadedAt: number;
}

/** The index and the partitions whose documents it holds. */
export interface MemoryCatalog {
  partitions: readonly PartitionCatalog[];
  index: CatalogIndex;
}

/** One index walk, as the merge sees it. */
interface IndexWalk {
  readonly current: IndexEntry<ListedProduct> | undefined;
  advance(): IndexEntry<ListedProduct> | undefined;
}

/** Whether the partitions' documents answer a list at `snapshot`, exactly as MongoDB would. */
export function canListAt(catalogs: readonly PartitionCatalog[], snapshot: Date): boolean {
  const t = snapshot.getTime();
  return catalogs.every((c) => c.loadedAt <= t && t <= c.writtenUpTo);
}

/** The latest instant every partition has fully written: a new pagination's snapshot. */
export const memorySnapshot = (catalogs: readonly PartitionCatalog[]): Date =>
  new Date(Math.min(...catalogs.map((c) => c.writtenUpTo)));

/**
 * The page `listProducts` reads from MongoDB, from the indexes: the same walk (see list-rules.ts),
 * merged from one index walk per group and kind (current documents, superseded versions still
 * current at the snapshot). A page costs a seek per walk, O(log n), and then the products it walks,
 * at most the budget.
 */
export function listFromMemory(index: CatalogIndex, request: ListRequest): ListPage {
  const { sort, snapshot, after } = request;
  const { field, direction } = SORTS[sort];
  const t = snapshot.getTime();
  const conditions = indexedConditions(sort, request.filters);
  const walks: IndexWalk[] = [
    ...index.current.walks(field, direction, conditions, after),
    ...index.superseded.walks(field, direction, conditions, after, t),
  ];
  const page = assemblePage(request, new MergedWalk(walks, field, direction, t));
  return { ...page, items: page.items.map(({ _id, ...listed }: ListedProduct & { _id?: string }) => listed) };
}

/** Walks in list order merged into one (a binary heap on their current entries). */
class MergedWalk implements ListWalk {
  product = undefined as unknown as ListedProduct;
  name = '';
  price = 0;
  current = false;
  private readonly heap: IndexWalk[];
  private readonly order: (a: IndexEntry<unknown>, b: IndexEntry<unknown>) => number;
  private readonly samePosition: (a: IndexEntry<unknown>, b: IndexEntry<unknown>) => boolean;

  constructor(
    walks: IndexWalk[],
    field: SortField,
    direction: 1 | -1,
    /** The snapshot: entries that became current after it are walked, not listed. */
    private readonly snapshot: number,
  ) {
    this.order = walkOrder(field, direction);
    this.samePosition = samePosition(field);
    this.heap = walks.filter((w) => w.current !== undefined);
    for (let i = (this.heap.length >>> 1) - 1; i >= 0; i--) this.sink(i);
  }

  more(): boolean {
    return this.heap.length > 0;
  }

  /**
   * The next product. Entries at one position are one step, as in MongoDB's merged walk (query.ts),
   * the one current at the snapshot standing for them: a page whose budget ran out between them
   * would leave the second behind its cursor, and the product out of the list.
   */
  next(): boolean {
    let entry = this.pop();
    if (entry === undefined) return false;
    for (let same = this.heap[0]?.current; same && this.samePosition(same, entry); same = this.heap[0]?.current) {
      this.pop();
      if (same.validFrom <= this.snapshot) entry = same;
    }
    this.product = entry.doc;
    this.name = entry.text;
    this.price = entry.price;
    this.current = entry.validFrom <= this.snapshot;
    return true;
  }

  private pop(): IndexEntry<ListedProduct> | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top) return undefined;
    const entry = top.current as IndexEntry<ListedProduct>;
    if (top.advance() === undefined) {
      const last = heap.pop() as IndexWalk;
      if (heap.length === 0) return entry;
      heap[0] = last;
    }
    this.sink(0);
    return entry;
  }

  private sink(start: number): void {
    const heap = this.heap;
    const n = heap.length;
    const walk = heap[start] as IndexWalk;
    const entry = walk.current as IndexEntry<ListedProduct>;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      let best = (heap[l] as IndexWalk).current as IndexEntry<ListedProduct>;
      if (r < n) {
        const right = (heap[r] as IndexWalk).current as IndexEntry<ListedProduct>;
        if (this.order(right, best) < 0) {
          child = r;
          best = right;
        }
      }
      if (this.order(best, entry) >= 0) break;
      heap[i] = heap[child] as IndexWalk;
      i = child;
    }
    heap[i] = walk;
  }
}

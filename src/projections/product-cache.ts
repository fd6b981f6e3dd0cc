import type { ListIndex } from './views/products/list-index.ts';
import type { ProductDoc } from './views/products/view.ts';

/**
 * The partition actor's copy of its product documents. It is the documents' only writer, so the copy
 * stays exact while the actor lives; it is dropped whenever a write fails with an unknown outcome.
 * While `complete` (everything the partition holds was loaded and nothing evicted since), a miss
 * means the view has no such product and costs no read; otherwise each miss is a lookup by `_id`.
 * The documents it holds are also in the process's list index (see `CatalogIndex`), updated with
 * every change, until `release`.
 */
export class ProductCache {
  private readonly docs = new Map<string, ProductDoc>();
  /** Documents evicted so far: one the actor wrote may have left (see `PartitionActor.fillCache`). */
  evictions = 0;

  constructor(
    private readonly capacity: number,
    public complete: boolean,
    private readonly index: ListIndex<ProductDoc>,
  ) {}

  /** The document, null when the view has none, undefined when only MongoDB knows. */
  get(id: string): ProductDoc | null | undefined {
    const doc = this.docs.get(id);
    if (doc) {
      this.docs.delete(id);
      this.docs.set(id, doc);
      return doc;
    }
    return this.complete ? null : undefined;
  }

  /**
   * As `get`, without touching the eviction order: for readers, who must not evict what the actor
   * needs. A miss of a complete cache is null: the view has no such product, and MongoDB need not be
   * asked (a request for an unknown id, or a wait for a product not yet created, cost a FerretDB read).
   */
  peek(id: string): ProductDoc | null | undefined {
    return this.docs.get(id) ?? (this.complete ? null : undefined);
  }

  set(doc: ProductDoc): void {
    const previous = this.docs.get(doc._id);
    if (previous) {
      this.docs.delete(doc._id);
      this.index.delete(previous);
    }
    this.docs.set(doc._id, doc);
    this.index.add(doc);
    if (this.docs.size > this.capacity) {
      const [oldestId, oldest] = this.docs.entries().next().value as [string, ProductDoc];
      this.docs.delete(oldestId);
      this.index.delete(oldest);
      this.complete = false;
      this.evictions += 1;
    }
  }

  /** Takes every document out of the list index: the actor is letting its state go. */
  release(): void {
    for (const doc of this.docs.values()) this.index.delete(doc);
    this.docs.clear();
    this.complete = false;
  }

  get size(): number {
    return this.docs.size;
  }
}

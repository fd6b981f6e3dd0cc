import type { Bulkhead } from '../infra/bulkhead.ts';
import type { Db } from '../infra/mongo.ts';
import type { GenerationPointer } from './generations.ts';
import { type ViewCollections, viewCollections } from './view-store.ts';
import { catalogStats, readShards, snapshotWatermark } from './views/catalog-stats/query.ts';
import type { CatalogStats, StatsShard } from './views/catalog-stats/view.ts';
import { priceHistoryOf } from './views/price-history/query.ts';
import type { PriceHistoryDoc } from './views/price-history/view.ts';
import type { ListPage, ListRequest } from './views/products/list-rules.ts';
import { canListAt, listFromMemory, type MemoryCatalog, memorySnapshot } from './views/products/memory-list.ts';
import { findProduct, listProducts } from './views/products/query.ts';
import type { ProductDoc } from './views/products/view.ts';

/** Product documents a process holds in memory, exactly as MongoDB holds them (the projection's own). */
export interface InMemoryProducts {
  /** The product's document; null when memory knows the view has none; undefined when only MongoDB knows. */
  cachedProduct(id: string, generation: number): ProductDoc | null | undefined;
  /** Every partition of `generation`, or undefined unless this process holds all of them. */
  catalog(generation: number): MemoryCatalog | undefined;
}

export type ReadSource = 'memory' | 'mongodb';

export interface ViewReaderOptions {
  /** How long superseded product versions are kept (the list cursor lifetime). */
  versionTtlMs: number;
  memory?: InMemoryProducts;
  /** Told where each read by id and each list page was answered from. */
  onRead?: (kind: 'product' | 'list', source: ReadSource) => void;
  /** Bounds the list queries in flight on MongoDB (see `Bulkhead`). */
  listBulkhead?: Bulkhead;
  /**
   * Bounds the reads by id in flight on MongoDB. They share the connection pool with the projection's
   * writes, and unbounded, a flood of them queued in the driver ahead of the writes (500 connections
   * asking for unknown ids on the local stack: read-your-writes lag p50 from 0.1 s to 3.1 s).
   */
  readBulkhead?: Bulkhead;
  /** maxTimeMS of each list query. */
  listTimeLimitMs?: number;
  shardCacheMs?: number;
}

/**
 * Reads the views of the generations being served (the pointer's, once this process has caught up
 * with it, see `LiveProjections`); what the query API is built on. A product by id comes from the
 * projection's memory when this process owns its partition, and a list page when it owns every
 * partition (a single replica, or the last one standing): on FerretDB a document read costs
 * milliseconds of decoding and a list query decodes the whole collection, while memory gives the
 * same documents (they enter it once MongoDB has acknowledged them) for a map lookup or one pass.
 */
export class ViewReader {
  private shardCache: { generation: number; at: number; shards: Promise<StatsShard[]> } | undefined;
  private readonly versionTtlMs: number;
  private readonly shardCacheMs: number;

  constructor(
    private readonly db: Db,
    /** Which generations reads use (`LiveProjections.serving`). */
    private readonly generations: { readonly serving: GenerationPointer },
    private readonly options: ViewReaderOptions,
  ) {
    this.versionTtlMs = options.versionTtlMs;
    this.shardCacheMs = options.shardCacheMs ?? 200;
  }

  get pointer(): GenerationPointer {
    return this.generations.serving;
  }

  /** Whether a cursor's generation can still be read (the current one or the one before it). */
  readable(generation: number): boolean {
    const { current, previous } = this.pointer;
    return generation === current || generation === previous;
  }

  private views(generation = this.pointer.current): ViewCollections {
    return viewCollections(this.db, generation);
  }

  product(id: string): Promise<ProductDoc | null> {
    const generation = this.pointer.current;
    const held = this.options.memory?.cachedProduct(id, generation);
    this.options.onRead?.('product', held === undefined ? 'mongodb' : 'memory');
    if (held !== undefined) return Promise.resolve(held);
    const { products } = this.views(generation);
    return this.boundedRead(() => findProduct(products, id));
  }

  list(generation: number, request: ListRequest): Promise<ListPage> {
    const catalog = this.options.memory?.catalog(generation);
    if (catalog && canListAt(catalog.partitions, request.snapshot)) {
      this.options.onRead?.('list', 'memory');
      return Promise.resolve(listFromMemory(catalog.index, request));
    }
    this.options.onRead?.('list', 'mongodb');
    const { products, versions } = this.views(generation);
    const query = () =>
      listProducts(products, versions, { ...request, timeLimitMs: this.options.listTimeLimitMs }, this.versionTtlMs);
    return this.options.listBulkhead ? this.options.listBulkhead.run(query) : query();
  }

  priceHistory(id: string): Promise<PriceHistoryDoc[]> {
    const { history } = this.views();
    return this.boundedRead(() => priceHistoryOf(history, id));
  }

  private boundedRead<T>(read: () => Promise<T>): Promise<T> {
    return this.options.readBulkhead ? this.options.readBulkhead.run(read) : read();
  }

  async stats(): Promise<CatalogStats> {
    return catalogStats(await this.shards());
  }

  /** The snapshot instant for a new list pagination, and the generation it belongs to. */
  async snapshot(): Promise<{ generation: number; at: Date }> {
    const generation = this.pointer.current;
    const catalog = this.options.memory?.catalog(generation);
    if (catalog) {
      const at = memorySnapshot(catalog.partitions);
      if (canListAt(catalog.partitions, at)) return { generation, at };
    }
    return { generation, at: snapshotWatermark(await this.shards(generation)) };
  }

  /** The stats shards, shared by concurrent requests for a moment: every list page and /stats reads them. */
  shards(generation = this.pointer.current): Promise<StatsShard[]> {
    const now = Date.now();
    const cached = this.shardCache;
    if (cached && cached.generation === generation && now - cached.at < this.shardCacheMs) return cached.shards;
    const shards = readShards(this.views(generation).stats);
    this.shardCache = { generation, at: now, shards };
    shards.catch(() => {
      if (this.shardCache?.shards === shards) this.shardCache = undefined;
    });
    return shards;
  }
}

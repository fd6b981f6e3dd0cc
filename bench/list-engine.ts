import { randomUUID } from 'node:crypto';
import { create } from 'superstruct';
import { ListQuery, listShape } from '../src/http/query/params.ts';
import type { ListRequest } from '../src/projections/views/products/list-rules.ts';
import { type CatalogIndex, listFromMemory, newCatalogIndex } from '../src/projections/views/products/memory-list.ts';
import { toProductView } from '../src/projections/views/products/view.ts';
import { productName, SEED_DESCRIPTION, SEED_STOCK, seedPrice } from './catalog-seed.ts';

/**
 * What a list page costs the list engine itself, in this process: the index walk, the mapping to
 * the API's shape and the JSON body, exactly as the query service's handler makes them, without
 * HTTP. The HTTP figures of list-scaling.ts measure sizes minutes apart on a shared machine; here
 * the sizes are measured in turn, round after round, so a slower moment of the machine touches both,
 * and the growth is the catalog's alone.
 */

export interface EngineCost {
  label: string;
  query: string;
  /** Per catalog size: the best round's microseconds per page, and the products on that page. */
  sizes: { products: number; micros: number; items: number }[];
}

/** A catalog of `size` products like the seeding path's (catalog-seed.ts), in a fresh index. */
export function seededIndex(size: number, snapshot: Date): CatalogIndex {
  const index = newCatalogIndex();
  const start = snapshot.getTime() - size;
  for (let n = 0; n < size; n++) {
    const at = new Date(start + n);
    const id = randomUUID();
    index.current.add({
      _id: id,
      id,
      sku: `ENGINE-${n}`,
      name: productName(n),
      description: SEED_DESCRIPTION,
      price: seedPrice(),
      stock: SEED_STOCK,
      status: 'active',
      version: 1,
      createdAt: at,
      updatedAt: at,
      partition: n % 12,
      validFrom: at,
    });
  }
  return index;
}

/** A list query string as the handler reads it: the same schema, defaults and filters. */
export function listRequest(query: string, snapshot: Date): ListRequest {
  return { ...listShape(create(Object.fromEntries(new URLSearchParams(query)), ListQuery)), snapshot };
}

/** One page as the handler makes it: the walk, the views and the body. */
function page(index: CatalogIndex, request: ListRequest): { items: number; body: string } {
  const result = listFromMemory(index, request);
  return {
    items: result.items.length,
    body: JSON.stringify({ items: result.items.map(toProductView), nextCursor: null }),
  };
}

/** Pages for about `forMs`, after a few unrecorded ones; microseconds per page. */
function timePages(index: CatalogIndex, request: ListRequest, forMs: number): { micros: number; items: number } {
  let items = 0;
  for (let i = 0; i < 50; i++) items = page(index, request).items;
  const started = performance.now();
  let pages = 0;
  while (performance.now() - started < forMs) {
    for (let i = 0; i < 20; i++) page(index, request);
    pages += 20;
  }
  return { micros: ((performance.now() - started) * 1000) / pages, items };
}

/**
 * Every query at every size, the sizes in turn within a query and the queries in turn within a
 * round; each figure is the fastest round's.
 */
export function measureListEngine(
  sizes: readonly number[],
  queries: readonly { label: string; query: string }[],
  options: { rounds: number; msPerMeasurement: number },
): EngineCost[] {
  const snapshot = new Date();
  const indexes = sizes.map((size) => seededIndex(size, snapshot));
  const costs: EngineCost[] = queries.map(({ label, query }) => ({
    label,
    query,
    sizes: sizes.map((products) => ({ products, micros: Number.POSITIVE_INFINITY, items: 0 })),
  }));
  for (let round = 0; round < options.rounds; round++) {
    for (const cost of costs) {
      const request = listRequest(cost.query, snapshot);
      for (const [i, index] of indexes.entries()) {
        const measured = timePages(index, request, options.msPerMeasurement);
        const kept = cost.sizes[i] as EngineCost['sizes'][number];
        if (measured.micros < kept.micros) Object.assign(kept, measured);
      }
    }
  }
  return costs;
}

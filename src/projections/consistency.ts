import type { Envelope } from '../domain/envelope.ts';
import type { ProductEvent } from '../domain/product/events.ts';
import { evolve, initialState, type ProductState } from '../domain/product/state.ts';
import { exactJson } from '../infra/exact-json.ts';
import { type CatalogStats, contribution, sumStats } from './views/catalog-stats/view.ts';
import type { ProductView } from './views/products/view.ts';

/**
 * What the views must hold according to the event store: every stream folded with the domain's own
 * `evolve`, so the projection is checked against the write model rather than against itself.
 */
export class ExpectedCatalog {
  private readonly states = new Map<string, { state: ProductState; createdAt: string; updatedAt: string }>();

  add(event: Envelope): void {
    const known = this.states.get(event.aggregateId);
    const state = evolve(known?.state ?? initialState, { type: event.type, data: event.data } as ProductEvent);
    this.states.set(event.aggregateId, {
      state,
      createdAt: known?.createdAt ?? event.occurredAt,
      updatedAt: event.occurredAt,
    });
  }

  products(): Map<string, ProductView> {
    const views = new Map<string, ProductView>();
    for (const [id, { state, createdAt, updatedAt }] of this.states) {
      if (state.status === 'empty') continue;
      const { sku, name, description, price, stock, status, version } = state;
      views.set(id, { id, sku, name, description, price, stock, status, version, createdAt, updatedAt });
    }
    return views;
  }

  /** The sum of every product's contribution, exact (see `sumStats`), as the shards' sum is. */
  stats(): CatalogStats {
    return sumStats([...this.products().values()].map(contribution));
  }
}

/** Keys sorted; BigInt counters written as the integers they are (see exactJson). */
const canonical = (value: unknown): string => exactJson(sortKeys(value));

const sortKeys = (value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
    ? Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, v]) => [key, sortKeys(v)]),
      )
    : value;

/** Every way the views differ from what the event store says, one line each. */
export function differences(
  expected: { products: Map<string, ProductView>; stats: CatalogStats },
  actual: { products: ProductView[]; stats: CatalogStats },
): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const view of actual.products) {
    if (seen.has(view.id)) found.push(`product ${view.id}: more than one document`);
    seen.add(view.id);
    const want = expected.products.get(view.id);
    if (!want) {
      found.push(`product ${view.id}: in the view but not in the event store`);
      continue;
    }
    for (const field of Object.keys(want) as (keyof ProductView)[]) {
      if (canonical(want[field]) !== canonical(view[field])) {
        found.push(`product ${view.id}: ${field} is ${canonical(view[field])}, expected ${canonical(want[field])}`);
      }
    }
  }
  for (const id of expected.products.keys()) {
    if (!seen.has(id)) found.push(`product ${id}: in the event store but not in the view`);
  }
  for (const field of Object.keys(expected.stats) as (keyof CatalogStats)[]) {
    if (canonical(expected.stats[field]) !== canonical(actual.stats[field])) {
      found.push(
        `catalog_stats: ${field} is ${canonical(actual.stats[field])}, expected ${canonical(expected.stats[field])}`,
      );
    }
  }
  return found;
}

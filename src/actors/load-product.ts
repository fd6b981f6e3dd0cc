import type { ProductEvent } from '../domain/product/events.ts';
import { fold, initialState, type ProductState } from '../domain/product/state.ts';
import type { EventStore } from '../infra/event-store/event-store.ts';

/** Rebuilds a product's state: the latest snapshot, then the events after it (one read). */
export async function loadProduct(store: EventStore, productId: string): Promise<ProductState> {
  const { snapshot, events } = await store.readTail(productId);
  const from = (snapshot?.state as ProductState | undefined) ?? initialState;
  return fold(
    events.map((e) => ({ type: e.type, data: e.data }) as ProductEvent),
    from,
  );
}

import type { ProductEvent } from '../domain/product/events.ts';
import { fold, initialState, type ProductState } from '../domain/product/state.ts';
import type { EventStore } from '../infra/event-store/event-store.ts';

/** Rebuilds a product's state: the latest snapshot, then the events after it. */
export async function loadProduct(store: EventStore, productId: string): Promise<ProductState> {
  const snapshot = await store.readSnapshot(productId);
  const from = (snapshot?.state as ProductState | undefined) ?? initialState;
  const events = await store.readStream(productId, snapshot?.version ?? 0);
  return fold(
    events.map((e) => ({ type: e.type, data: e.data }) as ProductEvent),
    from,
  );
}

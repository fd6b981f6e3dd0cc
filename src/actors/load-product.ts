import type { ProductEvent } from '../domain/product/events.ts';
import { fold, initialState, type ProductState } from '../domain/product/state.ts';
import { readStream } from '../infra/event-store/read.ts';
import { readSnapshot } from '../infra/event-store/snapshots.ts';
import type { Sql } from '../infra/postgres.ts';

/** Rebuilds a product's state: the latest snapshot, then the events after it. */
export async function loadProduct(sql: Sql, productId: string): Promise<ProductState> {
  const snapshot = await readSnapshot(sql, productId);
  const from = (snapshot?.state as ProductState | undefined) ?? initialState;
  const events = await readStream(sql, productId, snapshot?.version ?? 0);
  return fold(
    events.map((e) => ({ type: e.type, data: e.data }) as ProductEvent),
    from,
  );
}

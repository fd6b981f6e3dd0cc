import type { Money } from '../money.ts';
import type { ProductEvent } from './events.ts';

/** What every existing product knows, whatever its lifecycle stage. */
interface ProductFacts {
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly price: Money;
  readonly stock: number;
  /** Number of events applied: the stream version the next append must follow. */
  readonly version: number;
}

export interface EmptyProduct {
  readonly status: 'empty';
  readonly version: 0;
}
export interface ActiveProduct extends ProductFacts {
  readonly status: 'active';
}
export interface DiscontinuedProduct extends ProductFacts {
  readonly status: 'discontinued';
}

export type ProductState = EmptyProduct | ActiveProduct | DiscontinuedProduct;

export const initialState: EmptyProduct = { status: 'empty', version: 0 };

/**
 * Applies one event. It records facts and never judges them: the rules live in `decide`, and replay
 * must accept whatever the store holds, so this is total and never throws.
 */
export const evolve = (state: ProductState, event: ProductEvent): ProductState => {
  if (state.status === 'empty') {
    // A stream can only begin with ProductCreated (the append's version check sees to that), so
    // anything else here has no product to describe; the empty state has no version to count it in.
    if (event.type !== 'ProductCreated') return state;
    const { sku, name, description, price, stock } = event.data;
    return { status: 'active', sku, name, description, price, stock, version: 1 };
  }
  const version = state.version + 1;
  switch (event.type) {
    case 'ProductCreated':
      // decide never emits a second creation; if a stream holds one anyway, the first one's facts
      // stand, and the event still counts so the version keeps matching the stream.
      return { ...state, version };
    case 'ProductPriceChanged':
      return { ...state, price: event.data.newPrice, version };
    case 'ProductDetailsUpdated':
      return { ...state, name: event.data.name, description: event.data.description, version };
    case 'ProductRestocked':
    case 'StockReserved':
      return { ...state, stock: event.data.stock, version };
    case 'ProductDiscontinued':
      return { ...state, status: 'discontinued', version };
  }
};

/** Rebuilds a state from a stream; `from` lets a snapshot stand in for the events before it. */
export const fold = (events: Iterable<ProductEvent>, from: ProductState = initialState): ProductState => {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
};

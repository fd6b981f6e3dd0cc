import type { Money } from '../../../domain/money.ts';
import type { ProductEnvelope } from '../../record.ts';

export const PRICE_HISTORY = 'product_price_history';

export interface PriceChange {
  price: Money;
  version: number;
  changedAt: string;
}

/** One document per price a product had, keyed by product and version, so a replay inserts nothing new. */
export interface PriceHistoryDoc {
  _id: string;
  productId: string;
  price: Money;
  version: number;
  changedAt: Date;
  partition: number;
}

/** The entry an event adds to the history: the first price on creation, then every change. */
export function priceHistoryEntry(event: ProductEnvelope, partition: number): PriceHistoryDoc | null {
  const price =
    event.type === 'ProductCreated'
      ? event.data.price
      : event.type === 'ProductPriceChanged'
        ? event.data.newPrice
        : undefined;
  if (price === undefined) return null;
  return {
    _id: `${event.aggregateId}:${event.version}`,
    productId: event.aggregateId,
    price,
    version: event.version,
    changedAt: new Date(event.occurredAt),
    partition,
  };
}

export const toPriceChange = (doc: PriceHistoryDoc): PriceChange => ({
  price: { amount: doc.price.amount, currency: doc.price.currency },
  version: doc.version,
  changedAt: doc.changedAt.toISOString(),
});

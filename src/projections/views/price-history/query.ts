import type { Collection } from '../../../infra/mongo.ts';
import type { PriceHistoryDoc } from './view.ts';

/** Every price of a product, oldest first. Equality on `productId` is evaluated in PostgreSQL by FerretDB. */
export async function priceHistoryOf(
  history: Collection<PriceHistoryDoc>,
  productId: string,
): Promise<PriceHistoryDoc[]> {
  return history.find({ productId }).sort({ version: 1 }).toArray();
}

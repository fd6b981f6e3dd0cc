import type { ProductEnvelope } from '../../../../src/projections/record.ts';
import { StreamBuilder } from '../../../unit/projections/stream-builder.ts';

/**
 * A catalog's worth of events: `products` streams of `perProduct` events (creation, then price changes,
 * restocks, reservations and renames, sometimes a discontinuation), interleaved as the topic would
 * carry them.
 */
export function catalogEvents(products: number, perProduct: number): ProductEnvelope[] {
  const streams = Array.from({ length: products }, (_, p) => {
    const b = new StreamBuilder();
    const events = [b.created({ stock: 50, price: { amount: 1000 + p, currency: p % 5 === 0 ? 'USD' : 'EUR' } })];
    for (let i = 1; i < perProduct; i++) {
      const step = (p + i) % 7;
      if (i === perProduct - 1 && p % 11 === 0) events.push(b.discontinued());
      else if (step < 2) events.push(b.priceChanged(b.price.amount + 7));
      else if (step < 4) events.push(b.reserved(1));
      else if (step < 6) events.push(b.restocked(2));
      else events.push(b.renamed(`${b.name} v${i}`));
    }
    return events;
  });
  const log: ProductEnvelope[] = [];
  for (let i = 0; i < perProduct; i++)
    for (const stream of streams) if (stream[i]) log.push(stream[i] as ProductEnvelope);
  return log;
}

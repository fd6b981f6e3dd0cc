import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priceHistoryEntry, toPriceChange } from '../../../src/projections/views/price-history/view.ts';
import { StreamBuilder } from './stream-builder.ts';

test('the price history records the first price and every change, keyed by product and version', () => {
  const stream = new StreamBuilder();
  const created = stream.created({ price: { amount: 100, currency: 'EUR' } });
  const restocked = stream.restocked(2);
  const changed = stream.priceChanged(150);
  const entries = [created, restocked, changed].map((e) => priceHistoryEntry(e, 1));
  assert.equal(entries[1], null);
  assert.equal(entries[0]?._id, `${stream.id}:1`);
  assert.equal(entries[2]?._id, `${stream.id}:3`);
  assert.deepEqual(
    entries.flatMap((e) => (e ? [toPriceChange(e)] : [])),
    [
      { price: { amount: 100, currency: 'EUR' }, version: 1, changedAt: created.occurredAt },
      { price: { amount: 150, currency: 'EUR' }, version: 3, changedAt: changed.occurredAt },
    ],
  );
});

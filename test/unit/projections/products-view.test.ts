import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evolveProduct, type ProductDoc, toProductView } from '../../../src/projections/views/products/view.ts';
import { StreamBuilder } from './stream-builder.ts';

const at = new Date('2026-02-01T00:00:00.000Z');

function project(events: ReturnType<StreamBuilder['created']>[]): ProductDoc {
  let doc: ProductDoc | null = null;
  for (const event of events) doc = evolveProduct(doc, event, 3, at);
  if (!doc) throw new Error('no document');
  return doc;
}

describe('products view', () => {
  test('a creation makes an active product at version 1 with the event time as createdAt and updatedAt', () => {
    const stream = new StreamBuilder();
    const created = stream.created({ sku: 'MUG-1', name: 'Mug', price: { amount: 1299, currency: 'EUR' }, stock: 4 });
    const doc = project([created]);
    assert.deepEqual(toProductView(doc), {
      id: stream.id,
      sku: 'MUG-1',
      name: 'Mug',
      description: 'A product',
      price: { amount: 1299, currency: 'EUR' },
      stock: 4,
      status: 'active',
      version: 1,
      createdAt: created.occurredAt,
      updatedAt: created.occurredAt,
    });
    assert.equal(doc._id, stream.id);
    assert.equal(doc.partition, 3);
    assert.deepEqual(doc.validFrom, at);
  });

  test('price, details, stock and discontinuation events change their fields and bump version and updatedAt', () => {
    const stream = new StreamBuilder();
    const events = [stream.created({ stock: 10 }), stream.priceChanged(2500, 'USD'), stream.renamed('Big mug')];
    events.push(stream.restocked(5), stream.reserved(3));
    const last = stream.discontinued();
    const view = toProductView(project([...events, last]));
    assert.equal(view.version, 6);
    assert.deepEqual(view.price, { amount: 2500, currency: 'USD' });
    assert.equal(view.name, 'Big mug');
    assert.equal(view.stock, 12);
    assert.equal(view.status, 'discontinued');
    assert.equal(view.updatedAt, last.occurredAt);
    assert.equal(view.createdAt, events[0]?.occurredAt);
  });

  test('a second creation keeps the first facts and still counts as a version, like the domain evolve', () => {
    const stream = new StreamBuilder();
    const first = stream.created({ name: 'First' });
    const second = { ...new StreamBuilder(stream.id).created({ name: 'Second' }), version: 2 };
    const doc = project([first, second]);
    assert.equal(doc.name, 'First');
    assert.equal(doc.version, 2);
  });

  test('an event other than a creation cannot start a product', () => {
    const stream = new StreamBuilder();
    stream.created();
    assert.throws(() => evolveProduct(null, stream.restocked(1), 0, at), /no product to apply to/);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProductEvent } from '../../../src/domain/product/events.ts';
import { evolve, fold, initialState, type ProductState } from '../../../src/domain/product/state.ts';
import { eur, mug, productCreated, productDiscontinued } from './fixtures.ts';
import { deepFreeze } from './given-when-then.ts';

const history: ProductEvent[] = [
  productCreated({ stock: 10 }),
  { type: 'ProductPriceChanged', data: { oldPrice: eur(1200), newPrice: eur(1500) } },
  { type: 'ProductDetailsUpdated', data: { name: 'Cup', description: mug.description, changed: ['name'] } },
  { type: 'ProductRestocked', data: { quantity: 5, stock: 15 } },
  { type: 'StockReserved', data: { quantity: 4, stock: 11, reservationId: 'r-1' } },
  productDiscontinued,
];

describe('evolve', () => {
  test('starts from an empty product at version 0', () => {
    assert.deepStrictEqual(initialState, { status: 'empty', version: 0 });
  });

  test('makes a created product active at version 1 with the facts of its creation', () => {
    assert.deepStrictEqual(evolve(initialState, productCreated()), { status: 'active', ...mug, version: 1 });
  });

  test('takes the resulting values each event carries and counts every event in the version', () => {
    const states = history.map((_, applied) => fold(history.slice(0, applied + 1)));
    assert.deepStrictEqual(states, [
      { status: 'active', version: 1, ...mug },
      { status: 'active', version: 2, ...mug, price: eur(1500) },
      { status: 'active', version: 3, ...mug, price: eur(1500), name: 'Cup' },
      { status: 'active', version: 4, ...mug, price: eur(1500), name: 'Cup', stock: 15 },
      { status: 'active', version: 5, ...mug, price: eur(1500), name: 'Cup', stock: 11 },
      { status: 'discontinued', version: 6, ...mug, price: eur(1500), name: 'Cup', stock: 11 },
    ]);
  });

  test('keeps the facts of a discontinued product', () => {
    assert.deepStrictEqual(fold([productCreated(), productDiscontinued]), {
      status: 'discontinued',
      ...mug,
      version: 2,
    });
  });

  test('never mutates the state it is given', () => {
    let state: ProductState = deepFreeze(initialState);
    for (const event of history) state = deepFreeze(evolve(state, deepFreeze(event)));
    assert.equal(state.version, history.length);
  });

  test('ignores an event that cannot start a stream, rather than throwing on replay', () => {
    for (const event of history.slice(1)) assert.deepStrictEqual(evolve(initialState, event), initialState);
  });

  test('keeps the first creation when a stream holds a second one, still counting it', () => {
    const state = fold([productCreated(), productCreated({ name: 'Impostor', stock: 99 })]);
    assert.deepStrictEqual(state, { status: 'active', ...mug, version: 2 });
  });
});

describe('fold', () => {
  test('rebuilds the state of a whole stream', () => {
    assert.deepStrictEqual(fold(history), history.reduce(evolve, initialState));
  });

  test('continues from a snapshot as if the earlier events had been replayed', () => {
    const snapshot = fold(history.slice(0, 3));
    assert.deepStrictEqual(fold(history.slice(3), snapshot), fold(history));
  });

  test('leaves the initial state for an empty stream', () => {
    assert.deepStrictEqual(fold([]), initialState);
  });
});

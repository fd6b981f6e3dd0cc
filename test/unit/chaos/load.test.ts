import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Answer, buildWrite, isDefinitive, kindOf, LoadState, RoundTally } from '../../../scripts/chaos/load.ts';

const answer = (status: number, extra: Partial<Answer> = {}): Answer => ({
  status,
  retryAfter: null,
  body: undefined,
  ...extra,
});

describe('the mix', () => {
  test('1 create, 3 price changes, 3 restocks, 3 reservations in every 10 writes', () => {
    const counts = new Map<string, number>();
    for (let seq = 0; seq < 100; seq++) counts.set(kindOf(seq), (counts.get(kindOf(seq)) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { create: 10, price: 30, restock: 30, reserve: 30 });
  });

  test('each write has its own Idempotency-Key and a price no other write uses', () => {
    const id = 'aaaaaaaa-0000-4000-8000-000000000001';
    const writes = Array.from({ length: 50 }, (_, seq) => buildWrite('run1', seq, kindOf(seq), id));
    assert.equal(new Set(writes.map((w) => w.key)).size, 50);
    const prices = writes.flatMap((w) =>
      w.kind === 'price' ? [w.body.amount] : w.kind === 'create' ? [(w.body.price as { amount: number }).amount] : [],
    );
    assert.equal(new Set(prices).size, prices.length);
    const reserve = writes.find((w) => w.kind === 'reserve');
    assert.equal(reserve?.path, `/products/${id}/stock/reservations`);
    assert.equal(reserve?.body.reservationId, `r-${reserve?.key}`);
  });

  test('the first writes of a run are creates until a product exists', () => {
    const state = new LoadState();
    const first = [state.next(), state.next(), state.next()];
    assert.deepEqual(
      first.map((w) => w.kind),
      ['create', 'create', 'create'],
    );
    assert.equal(state.attempted.size, 3);
  });
});

describe('answers', () => {
  test('5xx, no answer and a key still in flight are not definitive; other answers are', () => {
    assert.equal(isDefinitive(answer(200)), true);
    assert.equal(isDefinitive(answer(404)), true);
    assert.equal(isDefinitive(answer(409, { body: { type: 'https://x/problems/insufficient-stock' } })), true);
    assert.equal(isDefinitive(answer(409, { body: { type: 'https://x/problems/idempotency-key-in-flight' } })), false);
    assert.equal(isDefinitive(answer(503, { retryAfter: '1' })), false);
    assert.equal(isDefinitive(answer(500)), false);
  });

  test('the tally counts 500s, 503s with Retry-After and other 5xx apart, and remembers acknowledgements', () => {
    const state = new LoadState();
    const tally = new RoundTally();
    const create = state.next();
    assert.equal(tally.answer(state, create, answer(503, { retryAfter: '1' }), false), false);
    assert.equal(tally.answer(state, create, answer(503), false), false);
    assert.equal(tally.answer(state, create, answer(500), false), false);
    assert.equal(tally.answer(state, create, answer(502), false), false);
    assert.equal(tally.answer(state, create, answer(201, { body: { id: create.productId, version: 1 } }), true), true);
    assert.equal(tally.status503RetryAfter, 1);
    assert.equal(tally.status500, 1);
    assert.equal(tally.otherFivexx, 2);
    assert.equal(tally.fivexx, 4);
    assert.equal(tally.acknowledged, 1);
    assert.equal(tally.acknowledgedOnRetry, 1);
    assert.deepEqual(state.products, [create.productId]);
    assert.deepEqual(state.acked, [{ key: create.key, productId: create.productId, kind: 'create', version: 1 }]);
    assert.equal(tally.answer(state, state.next(), answer(404), false), true);
    assert.deepEqual(Object.fromEntries(tally.rejected), { '404': 1 });
  });
});

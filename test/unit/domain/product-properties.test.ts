import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { is } from 'superstruct';
import { Money } from '../../../src/domain/money.ts';
import { decide } from '../../../src/domain/product/commands.ts';
import { PRODUCT_EVENT_TYPES, ProductDescription, ProductName, Sku } from '../../../src/domain/product/events.ts';
import { evolve, initialState } from '../../../src/domain/product/state.ts';
import { REJECTION_CODES } from '../../../src/domain/rejection.ts';
import { commandSequence, storableText, unstorableText } from './arbitraries.ts';
import { deepFreeze } from './given-when-then.ts';
import { runCommands } from './run-commands.ts';

describe('the product decider, for any sequence of commands', () => {
  test('keeps the stock a non-negative safe integer and the price a valid positive amount', () => {
    fc.assert(
      fc.property(commandSequence, (commands) => {
        for (const { after } of runCommands(commands)) {
          if (after.status === 'empty') continue;
          assert.ok(Number.isSafeInteger(after.stock) && after.stock >= 0, `stock ${after.stock}`);
          assert.ok(Number.isSafeInteger(after.price.amount) && after.price.amount > 0, `price ${after.price.amount}`);
          assert.ok(is(after.price, Money) && is(after.sku, Sku), 'price and sku match their schemas');
          assert.ok(is(after.name, ProductName) && is(after.description, ProductDescription), 'name and description');
        }
      }),
    );
  });

  test('accepts nothing once the product is discontinued', () => {
    fc.assert(
      fc.property(commandSequence, (commands) => {
        for (const { before, decision } of runCommands(commands)) {
          if (before.status === 'discontinued') assert.equal(decision.ok, false);
        }
      }),
    );
  });

  test('keeps the version equal to the number of events applied', () => {
    fc.assert(
      fc.property(commandSequence, (commands) => {
        let applied = 0;
        for (const { decision, after } of runCommands(commands)) {
          if (decision.ok) applied += decision.events.length;
          assert.equal(after.version, applied);
        }
      }),
    );
  });

  test('produces only events that evolve applies without throwing', () => {
    fc.assert(
      fc.property(commandSequence, (commands) => {
        for (const { before, decision } of runCommands(commands)) {
          if (!decision.ok) continue;
          let state = before;
          for (const event of decision.events) assert.doesNotThrow(() => (state = evolve(state, event)));
        }
      }),
    );
  });

  test('keeps the stock equal to the initial stock plus restocks minus reservations', () => {
    fc.assert(
      fc.property(commandSequence, (commands) => {
        let expected = 0;
        for (const { decision, after } of runCommands(commands)) {
          for (const event of decision.ok ? decision.events : []) {
            if (event.type === 'ProductCreated') expected = event.data.stock;
            if (event.type === 'ProductRestocked') expected += event.data.quantity;
            if (event.type === 'StockReserved') expected -= event.data.quantity;
          }
          if (after.status !== 'empty') assert.equal(after.stock, expected);
        }
      }),
    );
  });

  test('decides the same way every time without touching its inputs', () => {
    fc.assert(
      fc.property(commandSequence, (commands) => {
        for (const { command, before, decision } of runCommands(commands)) {
          const again = decide(deepFreeze(structuredClone(command)), deepFreeze(structuredClone(before)));
          assert.deepStrictEqual(again, decision);
        }
      }),
    );
  });

  test('is exercised by the generated commands on every event type and every rejection code', () => {
    const seen = new Set<string>();
    for (const commands of fc.sample(commandSequence, { numRuns: 500, seed: 20240601 })) {
      for (const { decision } of runCommands(commands)) {
        if (decision.ok) for (const event of decision.events) seen.add(event.type);
        else seen.add(decision.rejection.code);
      }
    }
    for (const outcome of [...PRODUCT_EVENT_TYPES, ...REJECTION_CODES]) assert.ok(seen.has(outcome), outcome);
  });
});

describe('the product decider, for any text', () => {
  const sku = storableText({ minLength: 1, maxLength: 32 });
  const name = storableText({ minLength: 1, maxLength: 100 });
  const description = storableText({ maxLength: 1000 });
  const price = { amount: 1200, currency: 'EUR' };

  test('accepts a creation whose sku, name and description hold any storable Unicode text', () => {
    fc.assert(
      fc.property(sku, name, description, (sku, name, description) => {
        const decision = decide({ type: 'CreateProduct', data: { sku, name, description, price } }, initialState);
        assert.ok(decision.ok, decision.ok ? '' : decision.rejection.detail);
      }),
    );
  });

  test('refuses a command with NUL or an unpaired surrogate in any text field, naming the field', () => {
    const field = fc.constantFrom('sku', 'name', 'description', 'reservationId');
    fc.assert(
      fc.property(field, unstorableText, (field, text) => {
        const data = { sku: 'MUG-001', name: 'Mug', price, [field]: text };
        const decision =
          field === 'reservationId'
            ? decide({ type: 'ReserveStock', data: { quantity: 1, reservationId: text } }, initialState)
            : decide({ type: 'CreateProduct', data }, initialState);
        assert.deepEqual(decision, {
          ok: false,
          rejection: {
            code: 'invalid-command',
            detail: `${field}: must not contain NUL or unpaired surrogate characters`,
          },
        });
      }),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { assert as assertValid } from 'superstruct';
import type { ProductCommand } from '../../../src/domain/product/commands.ts';
import { type EventOf, ProductEvent, type ProductEventType } from '../../../src/domain/product/events.ts';
import type { ProductState } from '../../../src/domain/product/state.ts';
import { commandSequence } from './arbitraries.ts';
import { eur, mug, productCreated, productDiscontinued } from './fixtures.ts';
import { runCommands } from './run-commands.ts';

/** Commands cross the worker-thread boundary by structured clone; events are stored and published as JSON. */
const assertSurvivesTransport = (value: unknown): void => {
  assert.deepStrictEqual(structuredClone(value), value, 'structuredClone');
  assert.deepStrictEqual(JSON.parse(JSON.stringify(value)), value, 'JSON');
};

// Keyed by type, so a new command, event or state fails to compile until it has an example here.
const commands: { [T in ProductCommand['type']]: Extract<ProductCommand, { type: T }> } = {
  CreateProduct: { type: 'CreateProduct', data: { sku: mug.sku, name: mug.name, price: eur(1200), initialStock: 3 } },
  ChangePrice: { type: 'ChangePrice', data: { price: eur(1500) } },
  UpdateDetails: { type: 'UpdateDetails', data: { description: 'Porcelain' } },
  Restock: { type: 'Restock', data: { quantity: 5 } },
  ReserveStock: { type: 'ReserveStock', data: { quantity: 2, reservationId: '0190f5a2-7c1e-7000-8000-000000000001' } },
  Discontinue: { type: 'Discontinue', data: {} },
};
const events: { [T in ProductEventType]: EventOf<T> } = {
  ProductCreated: productCreated(),
  ProductPriceChanged: { type: 'ProductPriceChanged', data: { oldPrice: eur(1200), newPrice: eur(1500) } },
  ProductDetailsUpdated: {
    type: 'ProductDetailsUpdated',
    data: { name: 'Cup', description: 'Porcelain', changed: ['name', 'description'] },
  },
  ProductRestocked: { type: 'ProductRestocked', data: { quantity: 5, stock: 15 } },
  StockReserved: { type: 'StockReserved', data: { quantity: 2, stock: 13, reservationId: 'r-1' } },
  ProductDiscontinued: productDiscontinued,
};
const states: { [S in ProductState['status']]: Extract<ProductState, { status: S }> } = {
  empty: { status: 'empty', version: 0 },
  active: { status: 'active', ...mug, version: 4 },
  discontinued: { status: 'discontinued', ...mug, stock: 0, version: 9 },
};

describe('serialization', () => {
  for (const [kind, examples] of Object.entries({ command: commands, event: events, state: states })) {
    for (const [type, example] of Object.entries(examples)) {
      test(`carries the ${type} ${kind} unchanged through structuredClone and JSON`, () => {
        assertSurvivesTransport(example);
      });
    }
  }

  test('holds only examples that match the event schema', () => {
    for (const event of Object.values(events)) assertValid(event, ProductEvent);
  });

  test('carries every generated command, and the events and states it leads to, unchanged', () => {
    fc.assert(
      fc.property(commandSequence, (sequence) => {
        for (const { command, decision, after } of runCommands(sequence)) {
          assertSurvivesTransport(command);
          assertSurvivesTransport(decision);
          assertSurvivesTransport(after);
        }
      }),
    );
  });

  test('gives every event decide produces the shape the ProductEvent schema demands', () => {
    fc.assert(
      fc.property(commandSequence, (sequence) => {
        for (const { decision } of runCommands(sequence)) {
          for (const event of decision.ok ? decision.events : []) assertValid(event, ProductEvent);
        }
      }),
    );
  });
});

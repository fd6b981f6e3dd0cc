import fc from 'fast-check';
import { MAX_AMOUNT, type Money } from '../../../src/domain/money.ts';
import type { CreateProduct, ProductCommand } from '../../../src/domain/product/commands.ts';

/** fast-check also builds null-prototype objects, which no JSON parse or structured clone gives back. */
const plain = { noNullPrototype: true } as const;

/**
 * Commands drawn mostly from small pools, so that they collide with the state (the current price,
 * the current name, the last units of stock), and now and then from the edge values the decider must
 * refuse or just accept. Every value is JSON-safe (no NaN, Infinity or -0), so the same commands
 * serve the round-trip tests.
 */
const mostly = <T>(typical: fc.Arbitrary<T>, edge: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 9, arbitrary: typical }, { weight: 1, arbitrary: edge });

/** The UTF-16 code units PostgreSQL cannot store: NUL, and surrogates without their partner. */
export const UNSTORABLE_UNITS = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff'] as const;

/**
 * Any Unicode text the stores can hold: every code point (astral ones are surrogate pairs, other
 * control characters included) but NUL. `maxLength` counts code points, at most two units each.
 */
export const storableText = (constraints: { minLength?: number; maxLength: number }): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', ...constraints }).map((text) => text.replaceAll('\u0000', '\u2400'));

/**
 * Text holding one unit the stores cannot hold, put between two code points, so that a lone high
 * surrogate never meets a low one to pair with (nor a lone low one a high one before it).
 */
export const unstorableText: fc.Arbitrary<string> = fc
  .tuple(storableText({ maxLength: 20 }), fc.constantFrom(...UNSTORABLE_UNITS), fc.nat())
  .map(([text, unit, at]) => {
    const points = [...text];
    points.splice(at % (points.length + 1), 0, unit);
    return points.join('');
  });

const sku = mostly(
  fc.constantFrom('MUG-001', 'CUP-002'),
  fc.oneof(fc.constantFrom('', 'S'.repeat(64), 'S'.repeat(65)), unstorableText),
);
const name = mostly(
  fc.oneof(
    fc.constantFrom('Mug', 'Cup'),
    fc.string({ minLength: 1, maxLength: 200 }),
    storableText({ minLength: 1, maxLength: 100 }),
  ),
  fc.oneof(fc.constantFrom('', 'N'.repeat(200), 'N'.repeat(201)), unstorableText),
);
const description = mostly(
  fc.oneof(fc.constantFrom('', 'Stoneware'), fc.string({ maxLength: 2000 }), storableText({ maxLength: 1000 })),
  fc.oneof(fc.constantFrom('D'.repeat(2000), 'D'.repeat(2001)), unstorableText),
);
const price = mostly<Money>(
  fc.record(
    {
      amount: fc.oneof(fc.constantFrom(1200, 1500), fc.integer({ min: 1, max: MAX_AMOUNT })),
      currency: fc.constantFrom('EUR', 'USD'),
    },
    plain,
  ),
  fc.oneof(
    fc.record(
      { amount: fc.constantFrom(0, -1, 12.5, MAX_AMOUNT, MAX_AMOUNT + 1), currency: fc.constant('EUR') },
      plain,
    ),
    fc.record(
      { amount: fc.constant(1200), currency: fc.constantFrom('eur', 'EURO', '', 'EU\u0000', '\ud800UR') },
      plain,
    ),
  ),
);
const quantity = mostly(fc.integer({ min: 1, max: 20 }), fc.constantFrom(0, -1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER));
const initialStock = mostly(
  fc.integer({ min: 0, max: 20 }),
  fc.constantFrom(-1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER),
);
const reservationId = mostly(
  fc.oneof(fc.constantFrom('r-1', 'r-2'), storableText({ minLength: 1, maxLength: 40 })),
  fc.oneof(fc.constant(''), unstorableText),
);

const createProduct: fc.Arbitrary<CreateProduct> = fc
  .record({ sku, name, description, price, initialStock }, { requiredKeys: ['sku', 'name', 'price'], ...plain })
  .map((data) => ({ type: 'CreateProduct', data }));

const productCommand: fc.Arbitrary<ProductCommand> = fc.oneof(
  { weight: 1, arbitrary: createProduct },
  { weight: 4, arbitrary: fc.record({ price }, plain).map((data) => ({ type: 'ChangePrice', data }) as const) },
  {
    weight: 4,
    arbitrary: fc
      .record({ name, description }, { requiredKeys: [], ...plain })
      .map((data) => ({ type: 'UpdateDetails', data }) as const),
  },
  { weight: 4, arbitrary: fc.record({ quantity }, plain).map((data) => ({ type: 'Restock', data }) as const) },
  {
    weight: 4,
    arbitrary: fc.record({ quantity, reservationId }, plain).map((data) => ({ type: 'ReserveStock', data }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'Discontinue', data: {} } as const) },
);

/** Most sequences open with a creation attempt, so the later commands usually meet an existing product. */
export const commandSequence: fc.Arbitrary<ProductCommand[]> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(createProduct, fc.array(productCommand, { maxLength: 30 }))
      .map(([first, rest]) => [first, ...rest]),
  },
  { weight: 1, arbitrary: fc.array(productCommand, { maxLength: 30 }) },
);

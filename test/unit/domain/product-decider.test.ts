import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_AMOUNT } from '../../../src/domain/money.ts';
import { type CreateProduct, decide, type ProductCommand } from '../../../src/domain/product/commands.ts';
import { initialState } from '../../../src/domain/product/state.ts';
import { isStorableText } from '../../../src/domain/text.ts';
import { eur, mug, productCreated, productDiscontinued } from './fixtures.ts';
import { given } from './given-when-then.ts';

const createMug: CreateProduct = {
  type: 'CreateProduct',
  data: { sku: mug.sku, name: mug.name, description: mug.description, price: mug.price, initialStock: mug.stock },
};

describe('CreateProduct', () => {
  test('creates a product with its details, price and initial stock', () => {
    given().when(createMug).then([productCreated()]);
  });

  test('defaults the description to empty and the initial stock to zero', () => {
    given()
      .when({ type: 'CreateProduct', data: { sku: 'MUG-001', name: 'Mug', price: eur(1200) } })
      .then([productCreated({ description: '', stock: 0 })]);
  });

  test('accepts the boundary values of every field', () => {
    const data = { sku: 'S'.repeat(64), name: 'N'.repeat(200), description: 'D'.repeat(2000), price: eur(MAX_AMOUNT) };
    given()
      .when({ type: 'CreateProduct', data: { ...data, initialStock: Number.MAX_SAFE_INTEGER } })
      .then([{ type: 'ProductCreated', data: { ...data, stock: Number.MAX_SAFE_INTEGER } }]);
  });

  test('rejects creating a product that already exists', () => {
    given([productCreated()]).when(createMug).thenRejects('already-exists');
  });

  test('rejects creating a product that exists but was discontinued', () => {
    given([productCreated(), productDiscontinued]).when(createMug).thenRejects('already-exists');
  });

  const invalidCreations: [string, Partial<CreateProduct['data']>, RegExp][] = [
    ['an empty sku', { sku: '' }, /^sku: /],
    ['a sku longer than 64 characters', { sku: 'S'.repeat(65) }, /^sku: /],
    ['an empty name', { name: '' }, /^name: /],
    ['a name longer than 200 characters', { name: 'N'.repeat(201) }, /^name: /],
    ['a description longer than 2000 characters', { description: 'D'.repeat(2001) }, /^description: /],
    ['a zero price', { price: eur(0) }, /^price\.amount: /],
    ['a negative price', { price: eur(-100) }, /^price\.amount: /],
    ['a price in fractions of a minor unit', { price: eur(12.5) }, /^price\.amount: /],
    ['a price above the maximum amount', { price: eur(MAX_AMOUNT + 1) }, /^price\.amount: /],
    ['a currency that is not an ISO 4217 code', { price: { amount: 1200, currency: 'eur' } }, /^price\.currency: /],
    ['a negative initial stock', { initialStock: -1 }, /^initialStock: /],
    ['a fractional initial stock', { initialStock: 1.5 }, /^initialStock: /],
    ['an initial stock beyond the safe integers', { initialStock: 2 ** 53 }, /^initialStock: /],
    ['a sku holding a NUL', { sku: 'MUG\u0000001' }, /^sku: must not contain NUL or unpaired surrogate/],
    ['a sku holding a lone low surrogate', { sku: '\udc00MUG' }, /^sku: must not contain NUL/],
    ['a name holding a NUL', { name: 'a\u0000b' }, /^name: must not contain NUL or unpaired surrogate/],
    ['a name holding a lone high surrogate', { name: 'Mug \ud800' }, /^name: must not contain NUL/],
    ['a description holding a NUL', { description: '\u0000' }, /^description: must not contain NUL/],
    ['a description holding a lone low surrogate', { description: 'x\udfff' }, /^description: must not contain/],
    ['a currency holding a NUL', { price: { amount: 1, currency: 'EU\u0000' } }, /^price\.currency: must not/],
    ['a currency holding a lone surrogate', { price: { amount: 1, currency: '\ud800UR' } }, /^price\.currency: must/],
  ];
  for (const [what, override, detail] of invalidCreations) {
    test(`rejects ${what} as an invalid command`, () => {
      given()
        .when({ type: 'CreateProduct', data: { ...createMug.data, ...override } })
        .thenRejects('invalid-command', detail);
    });
  }

  test('accepts any Unicode text, astral characters (surrogate pairs) included', () => {
    const data = { ...createMug.data, name: 'Mug \ud83d\ude00', description: 'tab\t\u0001 \ud83c\udf75' };
    given()
      .when({ type: 'CreateProduct', data })
      .then([productCreated({ name: data.name, description: data.description })]);
  });

  test('quotes the input in a rejection only as storable text (the detail is stored with an idempotency key)', () => {
    const price = { amount: 1200, currency: 'EUR', '\u0000\ud800': 1 };
    const decision = decide({ type: 'CreateProduct', data: { ...createMug.data, price } }, initialState);
    assert.ok(!decision.ok);
    assert.match(decision.rejection.detail, /^price\.\\u0000\\ud800: /);
    assert.ok(isStorableText(decision.rejection.detail), JSON.stringify(decision.rejection.detail));
  });

  test('rejects a price carrying fields other than amount and currency', () => {
    const price = { amount: 1200, currency: 'EUR', vat: 20 };
    given()
      .when({ type: 'CreateProduct', data: { ...createMug.data, price } })
      .thenRejects('invalid-command', /^price\.vat: /);
  });
});

describe('ChangePrice', () => {
  test('changes the price, carrying the old and the new price', () => {
    given([productCreated()])
      .when({ type: 'ChangePrice', data: { price: eur(1500) } })
      .then([{ type: 'ProductPriceChanged', data: { oldPrice: eur(1200), newPrice: eur(1500) } }]);
  });

  test('accepts the current price with no event, so the version stays the same', () => {
    given([productCreated()])
      .when({ type: 'ChangePrice', data: { price: eur(1200) } })
      .then([]);
  });

  test('treats the same amount in another currency as a new price', () => {
    const usd = { amount: 1200, currency: 'USD' };
    given([productCreated()])
      .when({ type: 'ChangePrice', data: { price: usd } })
      .then([{ type: 'ProductPriceChanged', data: { oldPrice: eur(1200), newPrice: usd } }]);
  });

  test('compares with the latest price, not the one the product was created with', () => {
    const repriced = { type: 'ProductPriceChanged', data: { oldPrice: eur(1200), newPrice: eur(1500) } } as const;
    given([productCreated(), repriced])
      .when({ type: 'ChangePrice', data: { price: eur(1200) } })
      .then([{ type: 'ProductPriceChanged', data: { oldPrice: eur(1500), newPrice: eur(1200) } }]);
  });

  test('rejects a price change for a product that does not exist', () => {
    given()
      .when({ type: 'ChangePrice', data: { price: eur(1500) } })
      .thenRejects('not-found');
  });

  test('rejects a price change on a discontinued product', () => {
    given([productCreated(), productDiscontinued])
      .when({ type: 'ChangePrice', data: { price: eur(1500) } })
      .thenRejects('product-discontinued');
  });

  test('rejects a zero price as an invalid command', () => {
    given([productCreated()])
      .when({ type: 'ChangePrice', data: { price: eur(0) } })
      .thenRejects('invalid-command', /^price\.amount: /);
  });
});

describe('UpdateDetails', () => {
  test('renames the product, carrying the resulting name and description', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { name: 'Big mug' } })
      .then([
        {
          type: 'ProductDetailsUpdated',
          data: { name: 'Big mug', description: mug.description, changed: ['name'] },
        },
      ]);
  });

  test('changes the description alone, and may clear it', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { description: '' } })
      .then([{ type: 'ProductDetailsUpdated', data: { name: mug.name, description: '', changed: ['description'] } }]);
  });

  test('changes the name and the description together', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { name: 'Cup', description: 'Porcelain' } })
      .then([
        {
          type: 'ProductDetailsUpdated',
          data: { name: 'Cup', description: 'Porcelain', changed: ['name', 'description'] },
        },
      ]);
  });

  test('lists as changed only the fields whose value differs', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { name: mug.name, description: 'Porcelain' } })
      .then([
        { type: 'ProductDetailsUpdated', data: { name: mug.name, description: 'Porcelain', changed: ['description'] } },
      ]);
  });

  test('treats a field set to undefined as not given, as it reads after a JSON round trip', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { name: 'Cup', description: undefined } })
      .then([
        { type: 'ProductDetailsUpdated', data: { name: 'Cup', description: mug.description, changed: ['name'] } },
      ]);
  });

  test('rejects an update that gives neither a name nor a description', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: {} })
      .thenRejects('nothing-to-change', /neither/);
  });

  test('rejects an update whose values are the current ones', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { name: mug.name, description: mug.description } })
      .thenRejects('nothing-to-change', /already/);
  });

  test('rejects an update of a product that does not exist', () => {
    given()
      .when({ type: 'UpdateDetails', data: { name: 'Cup' } })
      .thenRejects('not-found');
  });

  test('rejects an update of a discontinued product', () => {
    given([productCreated(), productDiscontinued])
      .when({ type: 'UpdateDetails', data: { name: 'Cup' } })
      .thenRejects('product-discontinued');
  });

  test('rejects an empty name as an invalid command', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { name: '' } })
      .thenRejects('invalid-command', /^name: /);
  });

  test('rejects a description longer than 2000 characters as an invalid command', () => {
    given([productCreated()])
      .when({ type: 'UpdateDetails', data: { description: 'D'.repeat(2001) } })
      .thenRejects('invalid-command', /^description: /);
  });

  for (const text of ['Cup\u0000', '\ud800', 'Cup \udc00']) {
    test(`rejects a name or description holding ${JSON.stringify(text)} as an invalid command`, () => {
      given([productCreated()])
        .when({ type: 'UpdateDetails', data: { name: text } })
        .thenRejects('invalid-command', /^name: must not contain NUL or unpaired surrogate characters$/);
      given([productCreated()])
        .when({ type: 'UpdateDetails', data: { description: text } })
        .thenRejects('invalid-command', /^description: must not contain NUL or unpaired surrogate characters$/);
    });
  }
});

describe('Restock', () => {
  test('restocks, carrying the quantity and the resulting stock', () => {
    given([productCreated({ stock: 10 })])
      .when({ type: 'Restock', data: { quantity: 5 } })
      .then([{ type: 'ProductRestocked', data: { quantity: 5, stock: 15 } }]);
  });

  test('builds on the stock left by earlier reservations', () => {
    const reserved = { type: 'StockReserved', data: { quantity: 10, stock: 0, reservationId: 'r-1' } } as const;
    given([productCreated({ stock: 10 }), reserved])
      .when({ type: 'Restock', data: { quantity: 3 } })
      .then([{ type: 'ProductRestocked', data: { quantity: 3, stock: 3 } }]);
  });

  for (const quantity of [0, -1, 1.5, 2 ** 53]) {
    test(`rejects a restock of ${quantity} as an invalid command`, () => {
      given([productCreated()])
        .when({ type: 'Restock', data: { quantity } })
        .thenRejects('invalid-command', /^quantity: /);
    });
  }

  test('rejects a restock that would take the stock beyond the safe integers', () => {
    given([productCreated({ stock: 1 })])
      .when({ type: 'Restock', data: { quantity: Number.MAX_SAFE_INTEGER } })
      .thenRejects('stock-limit', /passes the largest storable stock/);
  });

  test('rejects a restock of a product that does not exist', () => {
    given()
      .when({ type: 'Restock', data: { quantity: 5 } })
      .thenRejects('not-found');
  });

  test('rejects a restock of a discontinued product', () => {
    given([productCreated(), productDiscontinued])
      .when({ type: 'Restock', data: { quantity: 5 } })
      .thenRejects('product-discontinued');
  });
});

describe('ReserveStock', () => {
  test('reserves stock, carrying the quantity, the resulting stock and the reservation id', () => {
    given([productCreated({ stock: 10 })])
      .when({ type: 'ReserveStock', data: { quantity: 4, reservationId: 'r-1' } })
      .then([{ type: 'StockReserved', data: { quantity: 4, stock: 6, reservationId: 'r-1' } }]);
  });

  test('reserves the whole stock down to zero', () => {
    given([productCreated({ stock: 10 })])
      .when({ type: 'ReserveStock', data: { quantity: 10, reservationId: 'r-1' } })
      .then([{ type: 'StockReserved', data: { quantity: 10, stock: 0, reservationId: 'r-1' } }]);
  });

  test('rejects a reservation larger than the stock', () => {
    given([productCreated({ stock: 3 })])
      .when({ type: 'ReserveStock', data: { quantity: 4, reservationId: 'r-1' } })
      .thenRejects('insufficient-stock', /requested 4 but only 3 in stock/);
  });

  test('rejects any reservation when the stock is zero', () => {
    given([productCreated({ stock: 0 })])
      .when({ type: 'ReserveStock', data: { quantity: 1, reservationId: 'r-1' } })
      .thenRejects('insufficient-stock');
  });

  for (const quantity of [0, -1, 1.5, 2 ** 53]) {
    test(`rejects a reservation of ${quantity} as an invalid command`, () => {
      given([productCreated()])
        .when({ type: 'ReserveStock', data: { quantity, reservationId: 'r-1' } })
        .thenRejects('invalid-command', /^quantity: /);
    });
  }

  test('rejects an empty reservation id as an invalid command', () => {
    given([productCreated()])
      .when({ type: 'ReserveStock', data: { quantity: 1, reservationId: '' } })
      .thenRejects('invalid-command', /^reservationId: /);
  });

  for (const reservationId of ['r-\u0000', '\ud800', 'r-\udc00-1']) {
    test(`rejects the reservation id ${JSON.stringify(reservationId)} as an invalid command`, () => {
      given([productCreated()])
        .when({ type: 'ReserveStock', data: { quantity: 1, reservationId } })
        .thenRejects('invalid-command', /^reservationId: must not contain NUL or unpaired surrogate characters$/);
    });
  }

  test('rejects a reservation on a product that does not exist', () => {
    given()
      .when({ type: 'ReserveStock', data: { quantity: 1, reservationId: 'r-1' } })
      .thenRejects('not-found');
  });

  test('rejects a reservation on a discontinued product, even with stock left', () => {
    given([productCreated({ stock: 10 }), productDiscontinued])
      .when({ type: 'ReserveStock', data: { quantity: 1, reservationId: 'r-1' } })
      .thenRejects('product-discontinued');
  });
});

describe('Discontinue', () => {
  test('discontinues an active product', () => {
    given([productCreated()]).when({ type: 'Discontinue', data: {} }).then([productDiscontinued]);
  });

  test('rejects discontinuing a product twice', () => {
    given([productCreated(), productDiscontinued])
      .when({ type: 'Discontinue', data: {} })
      .thenRejects('product-discontinued');
  });

  test('rejects discontinuing a product that does not exist', () => {
    given().when({ type: 'Discontinue', data: {} }).thenRejects('not-found');
  });
});

describe('decide', () => {
  const everyCommandButCreate: ProductCommand[] = [
    { type: 'ChangePrice', data: { price: eur(1500) } },
    { type: 'UpdateDetails', data: { name: 'Cup' } },
    { type: 'Restock', data: { quantity: 1 } },
    { type: 'ReserveStock', data: { quantity: 1, reservationId: 'r-1' } },
    { type: 'Discontinue', data: {} },
  ];

  test('accepts nothing but a creation before the product exists', () => {
    for (const command of everyCommandButCreate) given().when(command).thenRejects('not-found');
  });

  test('accepts nothing but a creation attempt after the product is discontinued', () => {
    for (const command of everyCommandButCreate) {
      given([productCreated(), productDiscontinued]).when(command).thenRejects('product-discontinued');
    }
  });

  test('reports an invalid command before looking at the product, as the HTTP schema check would', () => {
    given()
      .when({ type: 'Restock', data: { quantity: 0 } })
      .thenRejects('invalid-command');
    given([productCreated(), productDiscontinued])
      .when({ type: 'ChangePrice', data: { price: eur(0) } })
      .thenRejects('invalid-command');
  });

  test('rejects a command type it does not know as an invalid command', () => {
    const decision = decide({ type: 'DeleteEverything', data: {} } as unknown as ProductCommand, initialState);
    assert.deepStrictEqual(decision, {
      ok: false,
      rejection: { code: 'invalid-command', detail: 'unknown command type "DeleteEverything"' },
    });
  });
});

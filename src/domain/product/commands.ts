import { optional, type Struct, validate } from 'superstruct';
import { Money, sameMoney } from '../money.ts';
import type { Rejection, RejectionCode } from '../rejection.ts';
import { escapeUnstorable } from '../text.ts';
import {
  type EventOf,
  ProductDescription,
  type ProductEvent,
  ProductName,
  Quantity,
  ReservationId,
  Sku,
  Stock,
} from './events.ts';
import { type ActiveProduct, evolve, initialState, type ProductState } from './state.ts';

export interface CreateProduct {
  type: 'CreateProduct';
  /** `description` defaults to '' and `initialStock` to 0. */
  data: { sku: string; name: string; description?: string; price: Money; initialStock?: number };
}
export interface ChangePrice {
  type: 'ChangePrice';
  data: { price: Money };
}
export interface UpdateDetails {
  type: 'UpdateDetails';
  data: { name?: string; description?: string };
}
export interface Restock {
  type: 'Restock';
  data: { quantity: number };
}
export interface ReserveStock {
  type: 'ReserveStock';
  /** Required here so that decide stays free of randomness: the caller generates one when the client gave none. */
  data: { quantity: number; reservationId: string };
}
export interface Discontinue {
  type: 'Discontinue';
  data: Record<string, never>;
}

export type ProductCommand = CreateProduct | ChangePrice | UpdateDetails | Restock | ReserveStock | Discontinue;

export type Decision = { ok: true; events: ProductEvent[] } | { ok: false; rejection: Rejection };

const accept = (...events: ProductEvent[]): Decision => ({ ok: true, events });
const reject = (code: RejectionCode, detail: string): Decision => ({ ok: false, rejection: { code, detail } });

/**
 * The decider checks its input against the event schemas itself rather than trusting the HTTP
 * schema: an event that breaks an invariant would be stored, and replayed, forever. Text fields
 * refuse what the stores cannot hold (NUL, unpaired surrogates). The detail can quote the input
 * (a field name, a value a pattern did not match) and is stored with an idempotency key, so what it
 * quotes is escaped to storable text.
 */
const invalid = <T, S>(field: string, value: unknown, schema: Struct<T, S>): Decision | undefined => {
  const [error] = validate(value, schema);
  if (!error) return undefined;
  // The failure's own message: the error's reads "At path: x -- ..." for a nested field.
  const { message } = error.failures()[0] ?? error;
  return reject('invalid-command', escapeUnstorable(`${[field, ...error.path].join('.')}: ${message}`));
};

const whenActive = (state: ProductState, decideActive: (product: ActiveProduct) => Decision): Decision => {
  switch (state.status) {
    case 'empty':
      return reject('not-found', 'the product does not exist');
    case 'discontinued':
      return reject('product-discontinued', 'the product is discontinued');
    case 'active':
      return decideActive(state);
  }
};

const createProduct = ({ data }: CreateProduct, state: ProductState): Decision => {
  const { sku, name, description = '', price, initialStock = 0 } = data;
  return (
    invalid('sku', sku, Sku) ??
    invalid('name', name, ProductName) ??
    invalid('description', description, ProductDescription) ??
    invalid('price', price, Money) ??
    invalid('initialStock', initialStock, Stock) ??
    (state.status === 'empty'
      ? accept({ type: 'ProductCreated', data: { sku, name, description, price, stock: initialStock } })
      : reject('already-exists', 'a product with this id already exists'))
  );
};

const changePrice = ({ data: { price } }: ChangePrice, state: ProductState): Decision =>
  invalid('price', price, Money) ??
  whenActive(state, (product) =>
    // The product already has this price: nothing happened, so no event and no version bump, and a
    // retried request stays harmless.
    sameMoney(product.price, price)
      ? accept()
      : accept({ type: 'ProductPriceChanged', data: { oldPrice: product.price, newPrice: price } }),
  );

const updateDetails = ({ data: { name, description } }: UpdateDetails, state: ProductState): Decision =>
  invalid('name', name, optional(ProductName)) ??
  invalid('description', description, optional(ProductDescription)) ??
  whenActive(state, (product) => {
    if (name === undefined && description === undefined) {
      return reject('nothing-to-change', 'neither a name nor a description was given');
    }
    const changed: EventOf<'ProductDetailsUpdated'>['data']['changed'] = [];
    if (name !== undefined && name !== product.name) changed.push('name');
    if (description !== undefined && description !== product.description) changed.push('description');
    if (changed.length === 0) return reject('nothing-to-change', 'the product already has this name and description');
    return accept({
      type: 'ProductDetailsUpdated',
      data: { name: name ?? product.name, description: description ?? product.description, changed },
    });
  });

const restock = ({ data: { quantity } }: Restock, state: ProductState): Decision =>
  invalid('quantity', quantity, Quantity) ??
  whenActive(state, (product) => {
    const stock = product.stock + quantity;
    // A well-formed restock that this product's stock cannot take: a rule of its state, like
    // insufficient stock, not a malformed command.
    return Number.isSafeInteger(stock)
      ? accept({ type: 'ProductRestocked', data: { quantity, stock } })
      : reject('stock-limit', `${product.stock} in stock: adding ${quantity} passes the largest storable stock`);
  });

const reserveStock = ({ data: { quantity, reservationId } }: ReserveStock, state: ProductState): Decision =>
  invalid('quantity', quantity, Quantity) ??
  invalid('reservationId', reservationId, ReservationId) ??
  whenActive(state, (product) =>
    quantity > product.stock
      ? reject('insufficient-stock', `requested ${quantity} but only ${product.stock} in stock`)
      : accept({ type: 'StockReserved', data: { quantity, stock: product.stock - quantity, reservationId } }),
  );

const discontinue = (_command: Discontinue, state: ProductState): Decision =>
  whenActive(state, () => accept({ type: 'ProductDiscontinued', data: {} }));

/**
 * Decides what a command makes happen to a product, or why it cannot. Every command's input is checked
 * before the product is looked at, as the HTTP edge checks its schema before loading the aggregate, so
 * a request gets the same answer whichever layer catches it.
 */
export const decide = (command: ProductCommand, state: ProductState): Decision => {
  switch (command.type) {
    case 'CreateProduct':
      return createProduct(command, state);
    case 'ChangePrice':
      return changePrice(command, state);
    case 'UpdateDetails':
      return updateDetails(command, state);
    case 'Restock':
      return restock(command, state);
    case 'ReserveStock':
      return reserveStock(command, state);
    case 'Discontinue':
      return discontinue(command, state);
    default: {
      const unhandled: never = command;
      // Commands cross the worker-thread boundary as plain data, so a caller built against another
      // version can still send a type this switch does not know.
      return reject('invalid-command', `unknown command type ${JSON.stringify((unhandled as { type: unknown }).type)}`);
    }
  }
};

export const decider = { decide, evolve, initialState };

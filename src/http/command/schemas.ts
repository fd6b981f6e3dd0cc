import { type Infer, object, optional, type Struct } from 'superstruct';
import { Uuid } from '../../domain/envelope.ts';
import { MAX_AMOUNT, Money } from '../../domain/money.ts';
import { ProductDescription, ProductName, Quantity, Sku, Stock } from '../../domain/product/events.ts';
import { STORABLE_TEXT_PATTERN, storableTextOfLength } from '../../domain/text.ts';
import { describe } from '../openapi/json-schema.ts';

/**
 * Request bodies of the command API. Each schema is the body's type and its validator, and feeds
 * /openapi.json. `object` rejects unknown fields; numbers must be safe integers; text refuses NUL
 * and unpaired surrogates (the domain structs are built on `StorableText`).
 */

/**
 * A free-text field, documented with the storable-text pattern its domain struct enforces. Notes go
 * outside `optional` (here and with `describe`): `optional` builds a new struct, without them.
 */
const text = <T, S>(struct: Struct<T, S>, docs: Record<string, unknown>): Struct<T, S> =>
  describe(struct, { ...docs, pattern: STORABLE_TEXT_PATTERN });

export const ProductId = describe(Uuid, { format: 'uuid' });

// The domain's Money holds its bounds in refinements, which JSON Schema cannot read: they are noted here.
describe(Money.schema.amount, { minimum: 1, maximum: MAX_AMOUNT, description: 'minor units (cents)' });
describe(Money.schema.currency, { pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
const price = describe(Money, {
  description: `amount in minor units (cents), an integer from 1 to ${MAX_AMOUNT}; currency an ISO 4217 code`,
});
const SAFE = Number.MAX_SAFE_INTEGER;

export const CreateProductBody = object({
  id: describe(optional(ProductId), { format: 'uuid' }),
  sku: text(Sku, { minLength: 1, maxLength: 64 }),
  name: text(ProductName, { minLength: 1, maxLength: 200 }),
  description: text(optional(ProductDescription), { maxLength: 2000 }),
  price,
  initialStock: describe(optional(Stock), { minimum: 0, maximum: SAFE }),
});
export type CreateProductBody = Infer<typeof CreateProductBody>;

export const ChangePriceBody = price;

export const UpdateDetailsBody = object({
  name: text(optional(ProductName), { minLength: 1, maxLength: 200 }),
  description: text(optional(ProductDescription), { maxLength: 2000 }),
});

export const RestockBody = object({ quantity: describe(Quantity, { minimum: 1, maximum: SAFE }) });

export const ReservationBody = object({
  quantity: describe(Quantity, { minimum: 1, maximum: SAFE }),
  // The domain bounds no reservation id's length; the API does, as it always documented.
  reservationId: text(optional(storableTextOfLength(1, 200)), { minLength: 1, maxLength: 200 }),
});

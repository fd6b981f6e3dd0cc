import { type Infer, object, optional } from 'superstruct';
import { Uuid } from '../../domain/envelope.ts';
import { Money } from '../../domain/money.ts';
import { ProductDescription, ProductName, Quantity, ReservationId, Sku, Stock } from '../../domain/product/events.ts';
import { describe } from '../openapi/json-schema.ts';

/**
 * Request bodies of the command API. Each schema is the body's type and its validator, and feeds
 * /openapi.json. `object` rejects unknown fields; numbers must be safe integers.
 */

export const ProductId = describe(Uuid, { format: 'uuid' });

const price = describe(Money, {
  description: 'amount in minor units (cents), a safe integer > 0; currency an ISO 4217 code',
});

export const CreateProductBody = object({
  id: optional(ProductId),
  sku: describe(Sku, { minLength: 1, maxLength: 64 }),
  name: describe(ProductName, { minLength: 1, maxLength: 200 }),
  description: optional(describe(ProductDescription, { maxLength: 2000 })),
  price,
  initialStock: optional(describe(Stock, { minimum: 0 })),
});
export type CreateProductBody = Infer<typeof CreateProductBody>;

export const ChangePriceBody = price;

export const UpdateDetailsBody = object({
  name: optional(describe(ProductName, { minLength: 1, maxLength: 200 })),
  description: optional(describe(ProductDescription, { maxLength: 2000 })),
});

export const RestockBody = object({ quantity: describe(Quantity, { minimum: 1 }) });

export const ReservationBody = object({
  quantity: describe(Quantity, { minimum: 1 }),
  reservationId: optional(describe(ReservationId, { maxLength: 200 })),
});

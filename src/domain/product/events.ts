import { array, enums, type Infer, literal, min, nonempty, object, size, union } from 'superstruct';
import { Money, SafeInteger } from '../money.ts';
import { StorableText, storableTextOfLength } from '../text.ts';

/**
 * The product's domain events: what happened, without the envelope. Events are "fat" where a
 * projection needs it (old and new price, resulting stock), so views never recompute domain rules.
 * Each event's data is a superstruct schema: the query side validates incoming events with the same
 * schemas that type them here.
 */

export const Quantity = min(SafeInteger, 1);
export const Stock = min(SafeInteger, 0);
/** Text fields hold only what the stores can hold: no NUL, no unpaired surrogate (see `storable`). */
export const ReservationId = nonempty(StorableText);
/** Lengths in code points, as `[min, max]`. */
export const PRODUCT_NAME_LENGTH = [1, 200] as const;
export const PRODUCT_DESCRIPTION_LENGTH = [0, 2000] as const;
export const SKU_LENGTH = [1, 64] as const;
export const ProductName = storableTextOfLength(...PRODUCT_NAME_LENGTH);
export const ProductDescription = storableTextOfLength(...PRODUCT_DESCRIPTION_LENGTH);
export const Sku = storableTextOfLength(...SKU_LENGTH);
/** The fields a ProductDetailsUpdated can name as changed. */
export const DETAIL_FIELDS = ['name', 'description'] as const;

export const ProductCreated = object({
  type: literal('ProductCreated'),
  data: object({ sku: Sku, name: ProductName, description: ProductDescription, price: Money, stock: Stock }),
});
export const ProductPriceChanged = object({
  type: literal('ProductPriceChanged'),
  data: object({ oldPrice: Money, newPrice: Money }),
});
/** Carries the resulting name and description, and which of them changed. */
export const ProductDetailsUpdated = object({
  type: literal('ProductDetailsUpdated'),
  data: object({
    name: ProductName,
    description: ProductDescription,
    changed: size(array(enums(DETAIL_FIELDS)), 1, DETAIL_FIELDS.length),
  }),
});
export const ProductRestocked = object({
  type: literal('ProductRestocked'),
  data: object({ quantity: Quantity, stock: Stock }),
});
export const StockReserved = object({
  type: literal('StockReserved'),
  data: object({ quantity: Quantity, stock: Stock, reservationId: ReservationId }),
});
export const ProductDiscontinued = object({
  type: literal('ProductDiscontinued'),
  data: object({}),
});

export const ProductEvent = union([
  ProductCreated,
  ProductPriceChanged,
  ProductDetailsUpdated,
  ProductRestocked,
  StockReserved,
  ProductDiscontinued,
]);
export type ProductEvent = Infer<typeof ProductEvent>;
export type ProductEventType = ProductEvent['type'];
export type EventOf<T extends ProductEventType> = Extract<ProductEvent, { type: T }>;

export const PRODUCT_EVENT_TYPES: readonly ProductEventType[] = [
  'ProductCreated',
  'ProductPriceChanged',
  'ProductDetailsUpdated',
  'ProductRestocked',
  'StockReserved',
  'ProductDiscontinued',
];

/** Bumped when an event's data changes shape; consumers upcast older versions. */
export const PRODUCT_EVENT_SCHEMA_VERSION = 1;

import { OCCURRED_AT_PATTERN, UUID_PATTERN } from '../domain/envelope.ts';
import { CURRENCY_PATTERN, MAX_AMOUNT } from '../domain/money.ts';
import {
  DETAIL_FIELDS,
  PRODUCT_DESCRIPTION_LENGTH,
  PRODUCT_EVENT_SCHEMA_VERSION,
  PRODUCT_NAME_LENGTH,
  type ProductEventType,
  SKU_LENGTH,
} from '../domain/product/events.ts';
import { codePointLength, isStorableText } from '../domain/text.ts';

/**
 * The superstruct schemas of the envelope and of each event's data (`EnvelopeHeader`,
 * `ProductCreated`...) checked without superstruct, for the envelopes that pass them. superstruct
 * walks a value with a generator per node and refinement: 36 us of the 76 us a rebuild spent on each
 * event (a CPU profile of `npm run rebuild` over 827,445 events), on a single core it shares with
 * FerretDB. This is a fast path only. `true` means every schema accepts the envelope; `false` means
 * "ask superstruct", which then gives the reason, or accepts what this check does not bother with
 * (an array as an empty `data`, a key present with the value `undefined`). The limits and patterns
 * are the schemas' own constants, the unit tests hold the field lists to the schemas' keys, and a
 * property test checks that nothing accepted here is rejected by superstruct.
 */
export function passesEventSchemas(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const envelope = value as Record<string, unknown>;
  const type = envelope.type;
  if (typeof type !== 'string' || !Object.hasOwn(DATA_CHECKS, type)) return false;
  return (
    isUuid(envelope.eventId) &&
    isUuid(envelope.aggregateId) &&
    isIntegerAtLeast(envelope.version, 1) &&
    isIntegerAtLeast(envelope.schemaVersion, 1) &&
    (envelope.schemaVersion as number) <= PRODUCT_EVENT_SCHEMA_VERSION &&
    isText(envelope.occurredAt) &&
    OCCURRED_AT_PATTERN.test(envelope.occurredAt) &&
    passesMetadata(envelope.metadata) &&
    DATA_CHECKS[type as ProductEventType](envelope.data)
  );
}

/** Each `EventMetadata` field and whether it is optional. */
export const METADATA_FIELDS = {
  commandId: 'uuid',
  idempotencyKey: 'optional',
  correlationId: 'required',
  causationId: 'required',
  traceparent: 'optional',
} as const;

/** `Money`'s fields. */
export const MONEY_FIELDS = ['amount', 'currency'] as const;

/** Each event's data fields, in the order of its schema. */
export const DATA_FIELDS: Record<ProductEventType, readonly string[]> = {
  ProductCreated: ['sku', 'name', 'description', 'price', 'stock'],
  ProductPriceChanged: ['oldPrice', 'newPrice'],
  ProductDetailsUpdated: ['name', 'description', 'changed'],
  ProductRestocked: ['quantity', 'stock'],
  StockReserved: ['quantity', 'stock', 'reservationId'],
  ProductDiscontinued: [],
};

const DATA_CHECKS: Record<ProductEventType, (data: unknown) => boolean> = {
  ProductCreated: (data) =>
    hasExactly(data, DATA_FIELDS.ProductCreated) &&
    isTextOfLength(data.sku, SKU_LENGTH) &&
    isTextOfLength(data.name, PRODUCT_NAME_LENGTH) &&
    isTextOfLength(data.description, PRODUCT_DESCRIPTION_LENGTH) &&
    isMoney(data.price) &&
    isSafeIntegerAtLeast(data.stock, 0),
  ProductPriceChanged: (data) =>
    hasExactly(data, DATA_FIELDS.ProductPriceChanged) && isMoney(data.oldPrice) && isMoney(data.newPrice),
  ProductDetailsUpdated: (data) =>
    hasExactly(data, DATA_FIELDS.ProductDetailsUpdated) &&
    isTextOfLength(data.name, PRODUCT_NAME_LENGTH) &&
    isTextOfLength(data.description, PRODUCT_DESCRIPTION_LENGTH) &&
    isChangedFields(data.changed),
  ProductRestocked: (data) =>
    hasExactly(data, DATA_FIELDS.ProductRestocked) &&
    isSafeIntegerAtLeast(data.quantity, 1) &&
    isSafeIntegerAtLeast(data.stock, 0),
  StockReserved: (data) =>
    hasExactly(data, DATA_FIELDS.StockReserved) &&
    isSafeIntegerAtLeast(data.quantity, 1) &&
    isSafeIntegerAtLeast(data.stock, 0) &&
    isNonEmptyText(data.reservationId),
  ProductDiscontinued: (data) => hasExactly(data, DATA_FIELDS.ProductDiscontinued),
};

function passesMetadata(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const metadata = value as Record<string, unknown>;
  if (!Object.keys(metadata).every((key) => Object.hasOwn(METADATA_FIELDS, key))) return false;
  return Object.entries(METADATA_FIELDS).every(([key, rule]) => {
    if (rule === 'uuid') return isUuid(metadata[key]);
    if (rule === 'optional' && !(key in metadata)) return true;
    return isNonEmptyText(metadata[key]);
  });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function hasExactly(value: unknown, fields: readonly string[]): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === fields.length && keys.every((key) => fields.includes(key));
}

const isText = (value: unknown): value is string => typeof value === 'string' && isStorableText(value);

const isNonEmptyText = (value: unknown): boolean => isText(value) && value.length > 0;

const isUuid = (value: unknown): boolean => isText(value) && UUID_PATTERN.test(value);

function isTextOfLength(value: unknown, [min, max]: readonly [number, number]): boolean {
  if (!isText(value)) return false;
  const length = codePointLength(value);
  return length >= min && length <= max;
}

const isIntegerAtLeast = (value: unknown, min: number): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= min;

const isSafeIntegerAtLeast = (value: unknown, min: number): boolean =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

const isMoney = (value: unknown): boolean =>
  hasExactly(value, MONEY_FIELDS) &&
  isSafeIntegerAtLeast(value.amount, 1) &&
  (value.amount as number) <= MAX_AMOUNT &&
  isText(value.currency) &&
  CURRENCY_PATTERN.test(value.currency);

function isChangedFields(value: unknown): boolean {
  if (!Array.isArray(value) || value.length < 1 || value.length > DETAIL_FIELDS.length) return false;
  // An indexed loop, not `every`, which skips the holes of a sparse array.
  for (let i = 0; i < value.length; i++) {
    if (!(DETAIL_FIELDS as readonly unknown[]).includes(value[i])) return false;
  }
  return true;
}

import type { KafkaMessage } from 'kafkajs';
import type { Struct } from 'superstruct';
import { type Envelope, EnvelopeHeader } from '../domain/envelope.ts';
import {
  PRODUCT_EVENT_SCHEMA_VERSION,
  PRODUCT_EVENT_TYPES,
  ProductCreated,
  ProductDetailsUpdated,
  ProductDiscontinued,
  type ProductEvent,
  type ProductEventType,
  ProductPriceChanged,
  ProductRestocked,
  StockReserved,
} from '../domain/product/events.ts';
import { validateInput } from '../domain/validate-input.ts';
import { passesEventSchemas } from './schema-fast-path.ts';

/** An envelope whose `type` discriminates its `data`. */
export type ProductEnvelope = ProductEvent extends infer E ? (E extends ProductEvent ? Envelope<E> : never) : never;

/** Why a record cannot be projected; each is a dead-letter reason. */
export const POISON_REASONS = [
  'unparseable',
  'invalid-envelope',
  'unknown-type',
  'unsupported-schema-version',
  'schema-violation',
  'key-mismatch',
  'invalid-stream-position',
  'invalid-occurred-at',
  'unwritable',
] as const;
export type PoisonReason = (typeof POISON_REASONS)[number];

export type DecodedRecord =
  | { kind: 'event'; offset: number; message: KafkaMessage; envelope: ProductEnvelope }
  | { kind: 'poison'; offset: number; message: KafkaMessage; reason: PoisonReason; detail: string };

const poison = (message: KafkaMessage, reason: PoisonReason, detail: string): DecodedRecord => ({
  kind: 'poison',
  offset: Number(message.offset),
  message,
  reason,
  detail,
});

const isKnownType = (type: string): type is ProductEventType =>
  (PRODUCT_EVENT_TYPES as readonly string[]).includes(type);

/** Each event type's schema, so an event is checked against its own rather than a union of all. */
export const EVENT_SCHEMAS: Record<ProductEventType, Struct<unknown, unknown>> = {
  ProductCreated,
  ProductPriceChanged,
  ProductDetailsUpdated,
  ProductRestocked,
  StockReserved,
  ProductDiscontinued,
} as Record<ProductEventType, Struct<unknown, unknown>>;

/**
 * The envelope's pattern admits strings such as 2026-02-30T25:61:00Z, which `Date` rolls over into
 * another instant without complaint: a view would then show a time nobody wrote. The instant is real
 * when reading it back gives the same calendar fields.
 */
function isRealInstant(text: string): boolean {
  const time = Date.parse(text);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 19) === text.slice(0, 19);
}

export type EnvelopeCheck =
  | { ok: true; envelope: ProductEnvelope }
  | { ok: false; reason: Exclude<PoisonReason, 'unparseable' | 'unwritable'>; detail: string };

/**
 * Whether a parsed envelope is one the projection can apply, and its `ProductEnvelope` (only the
 * envelope's own fields) if so. Besides the schemas, it checks what the projection relies on: the
 * record key is the aggregate id (so the partition, and with it the one writer of the product's
 * documents, is the right one) and a stream starts with ProductCreated at version 1. A rebuild
 * checks the events it reads from the event store with it, keyed by their aggregate id, so it
 * projects exactly what the live projection would.
 */
export function checkEnvelope(parsed: unknown, key: string | undefined): EnvelopeCheck {
  if (!passesEventSchemas(parsed)) {
    const rejected = schemaRejection(parsed);
    if (rejected) return rejected;
  }
  const envelope = parsed as ProductEnvelope & Record<string, unknown>;
  if (key !== envelope.aggregateId) {
    return {
      ok: false,
      reason: 'key-mismatch',
      detail: `record key ${key ?? 'null'} is not the aggregate id ${envelope.aggregateId}`,
    };
  }
  if ((envelope.type === 'ProductCreated') !== (envelope.version === 1)) {
    return { ok: false, reason: 'invalid-stream-position', detail: `${envelope.type} at version ${envelope.version}` };
  }
  if (!isRealInstant(envelope.occurredAt)) {
    return {
      ok: false,
      reason: 'invalid-occurred-at',
      detail: `occurredAt ${envelope.occurredAt} is not a real instant`,
    };
  }
  const { eventId, type, aggregateId, version, occurredAt, schemaVersion, data, metadata } = envelope;
  return {
    ok: true,
    envelope: { eventId, type, aggregateId, version, occurredAt, schemaVersion, data, metadata } as ProductEnvelope,
  };
}

/** Why the envelope or its event fails the schemas, by superstruct; `undefined` when it passes them. */
export function schemaRejection(parsed: unknown): Extract<EnvelopeCheck, { ok: false }> | undefined {
  const headerFailure = firstFailure(parsed, EnvelopeHeader);
  if (headerFailure) return { ok: false, reason: 'invalid-envelope', detail: headerFailure };
  const envelope = parsed as ProductEnvelope & Record<string, unknown>;
  if (!isKnownType(envelope.type)) {
    return { ok: false, reason: 'unknown-type', detail: `unknown event type ${envelope.type}` };
  }
  if (envelope.schemaVersion > PRODUCT_EVENT_SCHEMA_VERSION) {
    return {
      ok: false,
      reason: 'unsupported-schema-version',
      detail: `schema version ${envelope.schemaVersion} is newer than this service`,
    };
  }
  const eventFailure = firstFailure({ type: envelope.type, data: envelope.data }, EVENT_SCHEMAS[envelope.type]);
  if (eventFailure) return { ok: false, reason: 'schema-violation', detail: eventFailure };
  return undefined;
}

/** superstruct's message for the value's first failure, if it has one (see `validateInput`). */
const firstFailure = <T, S>(value: unknown, struct: Struct<T, S>): string | undefined =>
  validateInput(value, struct)[0]?.message;

/** Turns a Kafka record into an event envelope, or says why it is poison (see `checkEnvelope`). */
export function decodeRecord(message: KafkaMessage): DecodedRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    return poison(message, 'unparseable', (error as Error).message);
  }
  const checked = checkEnvelope(parsed, message.key?.toString('utf8'));
  return checked.ok
    ? { kind: 'event', offset: Number(message.offset), message, envelope: checked.envelope }
    : poison(message, checked.reason, checked.detail);
}

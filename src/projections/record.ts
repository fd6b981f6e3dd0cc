import type { KafkaMessage } from 'kafkajs';
import { validate } from 'superstruct';
import { type Envelope, EnvelopeHeader } from '../domain/envelope.ts';
import {
  PRODUCT_EVENT_SCHEMA_VERSION,
  PRODUCT_EVENT_TYPES,
  ProductEvent,
  type ProductEventType,
} from '../domain/product/events.ts';

/** An envelope whose `type` discriminates its `data`. */
export type ProductEnvelope = ProductEvent extends infer E ? (E extends ProductEvent ? Envelope<E> : never) : never;

/** Why a record cannot be projected; each is a dead-letter reason. */
export type PoisonReason =
  | 'unparseable'
  | 'invalid-envelope'
  | 'unknown-type'
  | 'unsupported-schema-version'
  | 'schema-violation'
  | 'key-mismatch'
  | 'invalid-stream-position';

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

/**
 * Turns a Kafka record into an event envelope, or says why it is poison. Besides the schemas, it checks
 * what the projection relies on: the record key is the aggregate id (so the partition, and with it the
 * one writer of the product's documents, is the right one) and a stream starts with ProductCreated at
 * version 1.
 */
export function decodeRecord(message: KafkaMessage): DecodedRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    return poison(message, 'unparseable', (error as Error).message);
  }
  const [headerError] = validate(parsed, EnvelopeHeader);
  if (headerError) return poison(message, 'invalid-envelope', headerError.message);
  const envelope = parsed as ProductEnvelope & Record<string, unknown>;
  if (!isKnownType(envelope.type)) return poison(message, 'unknown-type', `unknown event type ${envelope.type}`);
  if (envelope.schemaVersion > PRODUCT_EVENT_SCHEMA_VERSION) {
    return poison(
      message,
      'unsupported-schema-version',
      `schema version ${envelope.schemaVersion} is newer than this service`,
    );
  }
  const [eventError] = validate({ type: envelope.type, data: envelope.data }, ProductEvent);
  if (eventError) return poison(message, 'schema-violation', eventError.message);
  const key = message.key?.toString('utf8');
  if (key !== envelope.aggregateId) {
    return poison(
      message,
      'key-mismatch',
      `record key ${key ?? 'null'} is not the aggregate id ${envelope.aggregateId}`,
    );
  }
  if ((envelope.type === 'ProductCreated') !== (envelope.version === 1)) {
    return poison(message, 'invalid-stream-position', `${envelope.type} at version ${envelope.version}`);
  }
  const { eventId, type, aggregateId, version, occurredAt, schemaVersion, data, metadata } = envelope;
  return {
    kind: 'event',
    offset: Number(message.offset),
    message,
    envelope: { eventId, type, aggregateId, version, occurredAt, schemaVersion, data, metadata } as ProductEnvelope,
  };
}

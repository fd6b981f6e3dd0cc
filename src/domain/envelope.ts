import { type Infer, integer, min, nonempty, object, optional, pattern, type } from 'superstruct';
import { StorableText } from './text.ts';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const Uuid = pattern(StorableText, UUID_PATTERN);

export const EventMetadata = object({
  commandId: Uuid,
  idempotencyKey: optional(nonempty(StorableText)),
  correlationId: nonempty(StorableText),
  causationId: nonempty(StorableText),
  traceparent: optional(nonempty(StorableText)),
});
export type EventMetadata = Infer<typeof EventMetadata>;

/** An instant in UTC as `Date.prototype.toISOString` writes it, with any number of fraction digits. */
export const OCCURRED_AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The envelope every event travels in, identical in PostgreSQL and as the Kafka record value.
 * `type` and `data` are checked against the event schemas separately (see `parseEnvelope` users),
 * so that an unknown type is told apart from a malformed envelope.
 */
export const EnvelopeHeader = type({
  eventId: Uuid,
  type: nonempty(StorableText),
  aggregateId: Uuid,
  version: min(integer(), 1),
  occurredAt: pattern(StorableText, OCCURRED_AT_PATTERN),
  schemaVersion: min(integer(), 1),
  metadata: EventMetadata,
});

export interface Envelope<E extends { type: string; data: unknown } = { type: string; data: unknown }> {
  eventId: string;
  type: E['type'];
  aggregateId: string;
  version: number;
  occurredAt: string;
  schemaVersion: number;
  data: E['data'];
  metadata: EventMetadata;
}

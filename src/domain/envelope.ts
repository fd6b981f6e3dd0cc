import { type Infer, integer, min, nonempty, object, optional, pattern, string, type } from 'superstruct';

export const Uuid = pattern(string(), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

export const EventMetadata = object({
  commandId: Uuid,
  idempotencyKey: optional(nonempty(string())),
  correlationId: nonempty(string()),
  causationId: nonempty(string()),
  traceparent: optional(nonempty(string())),
});
export type EventMetadata = Infer<typeof EventMetadata>;

/**
 * The envelope every event travels in, identical in PostgreSQL and as the Kafka record value.
 * `type` and `data` are checked against the event schemas separately (see `parseEnvelope` users),
 * so that an unknown type is told apart from a malformed envelope.
 */
export const EnvelopeHeader = type({
  eventId: Uuid,
  type: nonempty(string()),
  aggregateId: Uuid,
  version: min(integer(), 1),
  occurredAt: pattern(string(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
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

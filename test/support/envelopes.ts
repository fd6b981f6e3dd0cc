import { randomUUID } from 'node:crypto';
import type { Envelope } from '../../src/domain/envelope.ts';
import { uuidv7 } from '../../src/infra/ids.ts';

/** A ProductCreated envelope as the actors append it, for tests that call the event store directly. */
export const productCreated = (
  id: string,
  sku: string,
  name = 'Batch',
  correlationId = 'event-store-test',
): Envelope => ({
  eventId: uuidv7(),
  type: 'ProductCreated',
  aggregateId: id,
  version: 1,
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
  data: { sku, name, description: '', price: { amount: 100, currency: 'EUR' }, stock: 5 },
  metadata: { commandId: randomUUID(), correlationId, causationId: correlationId },
});

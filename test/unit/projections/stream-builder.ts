import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { Money } from '../../../src/domain/money.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';

/**
 * Builds the envelopes the command side would publish for one product, with consecutive versions and
 * fat events computed from the product's running state.
 */
export class StreamBuilder {
  version = 0;
  price: Money = { amount: 1000, currency: 'EUR' };
  stock = 0;
  name = '';
  private clock: number;

  constructor(
    readonly id: string = randomUUID(),
    start = Date.parse('2026-01-01T00:00:00.000Z'),
  ) {
    this.clock = start;
  }

  private next<E extends ProductEnvelope>(type: E['type'], data: E['data']): E {
    this.version += 1;
    this.clock += 1000;
    return {
      eventId: randomUUID(),
      type,
      aggregateId: this.id,
      version: this.version,
      occurredAt: new Date(this.clock).toISOString(),
      schemaVersion: 1,
      data,
      metadata: { commandId: randomUUID(), correlationId: 'test', causationId: randomUUID() },
    } as E;
  }

  created(options: { sku?: string; name?: string; price?: Money; stock?: number } = {}): ProductEnvelope {
    this.price = options.price ?? this.price;
    this.stock = options.stock ?? 10;
    this.name = options.name ?? `Product ${this.id.slice(0, 8)}`;
    return this.next('ProductCreated', {
      sku: options.sku ?? `SKU-${this.id.slice(0, 8)}`,
      name: this.name,
      description: 'A product',
      price: this.price,
      stock: this.stock,
    });
  }

  priceChanged(amount: number, currency = this.price.currency): ProductEnvelope {
    const oldPrice = this.price;
    this.price = { amount, currency };
    return this.next('ProductPriceChanged', { oldPrice, newPrice: this.price });
  }

  renamed(name: string): ProductEnvelope {
    this.name = name;
    return this.next('ProductDetailsUpdated', { name, description: 'A product', changed: ['name'] });
  }

  restocked(quantity: number): ProductEnvelope {
    this.stock += quantity;
    return this.next('ProductRestocked', { quantity, stock: this.stock });
  }

  reserved(quantity: number): ProductEnvelope {
    this.stock -= quantity;
    return this.next('StockReserved', { quantity, stock: this.stock, reservationId: randomUUID() });
  }

  discontinued(): ProductEnvelope {
    return this.next('ProductDiscontinued', {});
  }
}

/** A Kafka message as kafkajs hands it to a consumer. */
export function kafkaMessage(envelope: unknown, offset: number, key?: string): KafkaMessage {
  const value = typeof envelope === 'string' ? envelope : JSON.stringify(envelope);
  const aggregateId = (envelope as { aggregateId?: string }).aggregateId;
  return {
    key: Buffer.from(key ?? aggregateId ?? 'no-key'),
    value: Buffer.from(value),
    headers: {},
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
  };
}

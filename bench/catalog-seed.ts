import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { Envelope } from '../src/domain/envelope.ts';
import { decide } from '../src/domain/product/commands.ts';
import { PRODUCT_EVENT_SCHEMA_VERSION } from '../src/domain/product/events.ts';
import { initialState } from '../src/domain/product/state.ts';
import { type AppendRequest, appendBatch } from '../src/infra/event-store/append.ts';
import { uuidv7 } from '../src/infra/ids.ts';
import { log } from './generator.ts';

/**
 * Bench-only seeding of a large catalog. Creating 100,000 products through HTTP and the actors takes
 * minutes on the bench machine and measures nothing the list bench is about, so the products are
 * decided by the domain's own `decide` and appended by the event store's own group commit
 * (`append_events`: events, outbox rows, SKU claims) in batches of 500, with no Idempotency-Key.
 * From there everything is the real pipeline: the command service's outbox relay publishes them
 * to Kafka and the projection writes the views, so `npm run verify` stays clean. Nothing but the
 * bench uses this path.
 */

const BATCH = 500;
const WORDS = ['mug', 'plate', 'bowl', 'tray', 'cup', 'jug', 'vase', 'lamp', 'desk', 'chair', 'shelf', 'rug'];
const ADJECTIVES = ['Blue', 'red', 'Large', 'small', 'Ceramic', 'oak', 'Steel', 'linen', 'Rustic', 'modern'];
export const SEED_CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
export const SEED_DESCRIPTION = 'Seeded by the list bench.';
export const SEED_STOCK = 100;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** A name from a small vocabulary, so that `q` filters match some products and not others. */
export const productName = (n: number): string => `${pick(ADJECTIVES)} ${pick(WORDS)} ${n}`;

export const seedPrice = () => ({ amount: 100 + Math.floor(Math.random() * 99_900), currency: pick(SEED_CURRENCIES) });

function createRequest(n: number, runId: string): AppendRequest {
  const id = randomUUID();
  const sku = `BENCH-LIST-${runId}-${n}`;
  const decision = decide(
    {
      type: 'CreateProduct',
      data: {
        sku,
        name: productName(n),
        description: SEED_DESCRIPTION,
        price: seedPrice(),
        initialStock: SEED_STOCK,
      },
    },
    initialState,
  );
  if (!decision.ok) throw new Error(`CreateProduct rejected: ${decision.rejection.code}`);
  const occurredAt = new Date().toISOString();
  const commandId = randomUUID();
  const events: Envelope[] = decision.events.map((event, i) => ({
    eventId: uuidv7(),
    type: event.type,
    aggregateId: id,
    version: i + 1,
    occurredAt,
    schemaVersion: PRODUCT_EVENT_SCHEMA_VERSION,
    data: event.data,
    metadata: { commandId, correlationId: `bench-seed-${runId}`, causationId: commandId },
  }));
  return { aggregateId: id, events, skuClaim: sku };
}

/** Appends `count` new products to the event store; their ids. */
export async function seedCatalog(databaseUrl: string, count: number): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const runId = randomUUID().slice(0, 8);
  const ids: string[] = [];
  const started = Date.now();
  let lastLog = started;
  try {
    for (let n = 0; n < count; n += BATCH) {
      const requests = Array.from({ length: Math.min(BATCH, count - n) }, (_, i) => createRequest(n + i, runId));
      const results = await appendBatch(sql, requests);
      const failed = results.filter((r) => r !== 'ok');
      if (failed.length > 0) throw new Error(`seeding: ${failed.length} appends failed (${JSON.stringify(failed[0])})`);
      ids.push(...requests.map((r) => r.aggregateId));
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`  seeded ${ids.length.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} products`);
      }
    }
  } finally {
    await sql.end();
  }
  log(`  appended ${count.toLocaleString('en-US')} products in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ids;
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { queryOpenApi } from '../../../src/http/query/openapi.ts';
import { deadLettersEvent } from '../../../src/http/query/operations-feed.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';
import { DEAD_LETTER_HEADERS } from '../../../src/projections/dead-letters.ts';
import { createProjectionMetrics } from '../../../src/projections/metrics.ts';
import { readDeadLetter } from '../../../src/projections/operations/dead-letter.ts';
import { OperationsMonitor } from '../../../src/projections/operations/monitor.ts';
import { Redriver } from '../../../src/projections/operations/redrive.ts';
import type { RebuildProgress } from '../../../src/projections/rebuild-progress.ts';

type Schema = Record<string, unknown>;
const doc = queryOpenApi() as { paths: Record<string, unknown>; components: { schemas: Record<string, Schema> } };

/** The mismatches between a value and a schema of the subset this document uses. */
function mismatches(value: unknown, schema: Schema, at = ''): string[] {
  if (typeof schema.$ref === 'string') {
    return mismatches(value, doc.components.schemas[schema.$ref.split('/').at(-1) ?? ''] ?? {}, at);
  }
  if (Array.isArray(schema.oneOf)) {
    const fits = (schema.oneOf as Schema[]).filter((option) => mismatches(value, option, at).length === 0);
    return fits.length === 1 ? [] : [`${at}: fits ${fits.length} of oneOf`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return [`${at}: ${String(value)} not in enum`];
  switch (schema.type) {
    case 'null':
      return value === null ? [] : [`${at}: not null`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: not a string`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: not a number`];
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((item, i) => mismatches(item, (schema.items ?? {}) as Schema, `${at}/${i}`))
        : [`${at}: not an array`];
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
      const record = value as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const extra = schema.properties ? Object.keys(record).filter((key) => !(key in properties)) : [];
      const missing = ((schema.required ?? []) as string[]).filter((key) => !(key in record));
      const additional = schema.additionalProperties as Schema | undefined;
      return [
        ...extra.map((key) => `${at}/${key}: not documented`),
        ...missing.map((key) => `${at}/${key}: missing`),
        ...Object.entries(record).flatMap(([key, item]) =>
          properties[key]
            ? mismatches(item, properties[key], `${at}/${key}`)
            : additional
              ? mismatches(item, additional, `${at}/${key}`)
              : [],
        ),
      ];
    }
    default:
      return [];
  }
}

const schema = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const letter = readDeadLetter(2, {
  offset: '5',
  key: Buffer.from('k'),
  value: Buffer.from('{"aggregateId":"a","version":1}'),
  timestamp: '0',
  attributes: 0,
  headers: { [DEAD_LETTER_HEADERS.reason]: Buffer.from('key-mismatch') },
} as KafkaMessage);

const rebuild: RebuildProgress = {
  generation: 2,
  phase: 'catching-up',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  totalEvents: 10,
  eventsRead: 10,
  percent: 100,
  eventsPerSecond: 5,
  products: 3,
  productsWritten: 3,
  priceHistoryWritten: 3,
  documentsPerSecond: 2,
  skipped: 0,
  etaSeconds: null,
  partitions: [{ partition: 0, handover: 4, offset: 4, target: 6 }],
  caughtUp: 2,
  error: null,
};

describe("the OpenAPI document's console schemas", () => {
  test('list every console route', () => {
    for (const path of [
      '/console',
      '/projections/stream',
      '/admin/dead-letters',
      '/admin/dead-letters/{partition}/{offset}/redrive',
      '/admin/dead-letters/redrive',
    ]) {
      assert.ok(doc.paths[path], path);
    }
  });

  test('describe what the stream and the admin routes send', async () => {
    const monitor = new OperationsMonitor(
      {
        status: async () => ({
          topic: 't',
          consumerGroup: 'g.g2',
          generation: 2,
          totalLag: 1,
          partitions: [
            {
              partition: 0,
              committedOffset: 3,
              endOffset: 4,
              lag: 1,
              lastEventAt: '2026-01-01T00:00:00.000Z',
              ownedHere: true,
              state: 'paused',
              pausedReason: 'MongoDB is down',
              gaps: { count: 1, oldestParkedAt: '2026-01-01T00:00:00.000Z', stale: 1 },
            },
            {
              partition: 1,
              committedOffset: null,
              endOffset: 0,
              lag: 0,
              lastEventAt: null,
              ownedHere: false,
              state: null,
              pausedReason: null,
              gaps: null,
            },
          ],
        }),
        local: () => [
          {
            partition: 0,
            status: 'paused',
            committedOffset: 3,
            appliedOffset: 4,
            highWatermark: 4,
            lastEventAt: null,
            pausedReason: 'MongoDB is down',
            parkedCount: 1,
            oldestParkedAt: '2026-01-01T00:00:00.000Z',
            staleParked: 1,
            parked: [{ partition: 0, aggregateId: 'a', version: 3, offset: 2, parkedAt: '2026-01-01T00:00:00.000Z' }],
          },
        ],
        rebuild: () => rebuild,
        startedAt: new Date(),
      },
      60_000,
    );
    await monitor.sample();
    const status = await monitor.sample();
    assert.deepEqual(mismatches(status, schema('OperationsStatus')), []);
    assert.deepEqual(mismatches({ ...status, rebuild: null }, schema('OperationsStatus')), []);
    assert.deepEqual(mismatches(monitor.history(), schema('ChartHistory')), []);
    assert.deepEqual(mismatches(rebuild, schema('RebuildProgress')), []);

    const held = {
      ensureStarted: () => {},
      ready: true,
      version: 1,
      perPartition: 50,
      views: () => [letter.view],
      find: () => letter,
      letters: () => [letter],
      markRedriven: (l: typeof letter, at: Date) => {
        l.view.redrivenAt = at.toISOString();
      },
    };
    const redriver = new Redriver({
      publish: async () => {},
      topic: 't',
      tail: held,
      redrives: createProjectionMetrics(createRegistry('test')).redrives,
      logger: createLogger('test', 'silent'),
    });
    const redriven = { redriven: await redriver.one(2, 5) };
    assert.deepEqual(mismatches(redriven, schema('RedriveResult')), []);
    assert.deepEqual(mismatches(deadLettersEvent(held, 50), schema('DeadLetters')), []);
    assert.notDeepEqual(
      mismatches({ ...status, totalLag: 'many' }, schema('OperationsStatus')),
      [],
      'the check can fail',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  etaSeconds,
  percentOf,
  perSecond,
  progressLine,
  type RebuildProgress,
} from '../../../src/projections/rebuild-progress.ts';

const base: RebuildProgress = {
  generation: 3,
  phase: 'reading',
  startedAt: '2026-03-01T00:00:00.000Z',
  finishedAt: null,
  totalEvents: 200_000,
  eventsRead: 50_000,
  percent: 25,
  eventsPerSecond: 25_000,
  products: 40_000,
  productsWritten: 0,
  priceHistoryWritten: 12_000,
  documentsPerSecond: 6_000,
  skipped: 0,
  etaSeconds: 6,
  partitions: [],
  caughtUp: 0,
  error: null,
};

describe('rebuild progress', () => {
  test('rate, ETA and share of the log', () => {
    assert.equal(perSecond(50_000, 2_000), 25_000);
    assert.equal(perSecond(10, 0), 0);
    assert.equal(etaSeconds(150_000, 25_000), 6);
    assert.equal(etaSeconds(1, 25_000), 1, 'a partial second left is a second');
    assert.equal(etaSeconds(-5, 10), 0, 'more read than counted (writes went on) is no time left');
    assert.equal(etaSeconds(100, 0), null, 'no rate yet: no ETA');
    assert.equal(percentOf(50_000, 200_000), 25);
    assert.equal(percentOf(199_999, 200_000), 99, 'not 100 before the end');
    assert.equal(percentOf(210_000, 200_000), 100);
    assert.equal(percentOf(0, 0), 100, 'an empty event store is all read');
  });

  test('a line per phase names the rate, the share of the log and the ETA', () => {
    assert.equal(
      progressLine(base),
      'rebuild g3: reading 50,000/200,000 events (25%), 25,000 events/s, ETA 6 s; 40,000 products, 12,000 price history entries written',
    );
    assert.equal(
      progressLine({ ...base, phase: 'writing', eventsRead: 200_000, productsWritten: 10_000, etaSeconds: 30 }),
      'rebuild g3: writing 10,000/40,000 products (25%), 6,000 documents/s, ETA 30 s; read 200,000 events',
    );
    assert.equal(
      progressLine({
        ...base,
        phase: 'catching-up',
        caughtUp: 12,
        partitions: [
          { partition: 0, handover: 10, offset: 20, target: 25 },
          { partition: 1, handover: 5, offset: 7, target: 7 },
        ],
      }),
      'rebuild g3: catching up from the topic: 12 records since the handover, 5 to go',
    );
    assert.equal(
      progressLine({
        ...base,
        phase: 'done',
        eventsRead: 200_000,
        eventsPerSecond: 20_000,
        caughtUp: 12,
        finishedAt: '2026-03-01T00:00:10.000Z',
      }),
      'rebuild g3: views switched after 200,000 events from the event store (40,000 products, 12 records from the topic) in 10.0 s, 20,000 events/s',
    );
    assert.equal(progressLine({ ...base, etaSeconds: null }).includes('ETA unknown'), true);
    assert.equal(progressLine({ ...base, phase: 'failed', error: 'boom' }), 'rebuild g3: failed: boom');
  });
});

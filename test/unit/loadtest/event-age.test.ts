import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bucketQuantile,
  describeChunks,
  describeEventAge,
  eventAgeBetween,
  parseChunkTotals,
  parseEventAge,
} from '../../../bench/event-age.ts';

/** The histogram as prom-client writes it, with the service's default label among the others. */
const exposition = (counts: Record<string, number[]>) =>
  [
    '# HELP projection_event_age_seconds Live projection: ...',
    '# TYPE projection_event_age_seconds histogram',
    ...Object.entries(counts).flatMap(([stage, [a, b, c, inf]]) => [
      `projection_event_age_seconds_bucket{le="0.1",service="query-service",stage="${stage}"} ${a}`,
      `projection_event_age_seconds_bucket{le="0.25",service="query-service",stage="${stage}"} ${b}`,
      `projection_event_age_seconds_bucket{le="1",service="query-service",stage="${stage}"} ${c}`,
      `projection_event_age_seconds_bucket{le="+Inf",service="query-service",stage="${stage}"} ${inf}`,
      `projection_event_age_seconds_sum{service="query-service",stage="${stage}"} 12.5`,
      `projection_event_age_seconds_count{service="query-service",stage="${stage}"} ${inf}`,
    ]),
    'projection_chunk_duration_seconds_bucket{le="0.1",runtime="live"} 99',
  ].join('\n');

describe('projection_event_age_seconds in the bench', () => {
  test("reads each stage's cumulative buckets, whatever the order of the labels", () => {
    const parsed = parseEventAge(exposition({ fetched: [1, 2, 3, 4] }).replace('{le="0.25",service', '{service'));
    assert.deepEqual(parsed.get('fetched'), [
      [0.1, 1],
      [1, 3],
      [Number.POSITIVE_INFINITY, 4],
    ]);
    assert.equal(parsed.size, 1);
  });

  test('keeps only what was observed between two readings', () => {
    const before = parseEventAge(exposition({ written: [10, 20, 30, 30] }));
    const after = parseEventAge(exposition({ written: [10, 60, 130, 130], fetched: [5, 5, 5, 5] }));
    const between = eventAgeBetween(before, after);
    assert.deepEqual(between.get('written'), [
      [0.1, 0],
      [0.25, 40],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    assert.deepEqual(between.get('fetched')?.at(-1), [Number.POSITIVE_INFINITY, 5]);
  });

  test('interpolates a quantile within its bucket, as histogram_quantile does', () => {
    const buckets: [number, number][] = [
      [0.1, 0],
      [0.25, 40],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ];
    assert.equal(bucketQuantile(buckets, 0.2), 0.175);
    assert.equal(bucketQuantile(buckets, 0.7), 0.625);
    assert.equal(
      bucketQuantile(
        [
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 10],
        ],
        0.5,
      ),
      0.1,
    );
    assert.equal(
      bucketQuantile(
        [
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ],
        0.5,
      ),
      undefined,
    );
  });

  test('describes the stages in pipeline order, and nothing when no event was applied', () => {
    const before = parseEventAge(exposition({ published: [0, 0, 0, 0], written: [0, 0, 0, 0] }));
    const after = parseEventAge(exposition({ written: [0, 40, 100, 100], published: [100, 100, 100, 100] }));
    assert.equal(
      describeEventAge(eventAgeBetween(before, after)),
      'age of the 100 events the query service applied meanwhile, from their occurredAt ' +
        '(projection_event_age_seconds, interpolated within its buckets): published p50 50 ms, p99 99 ms; ' +
        'written p50 375 ms, p99 988 ms',
    );
    assert.equal(describeEventAge(eventAgeBetween(after, after)), undefined);
  });
});

describe('the live projection chunks in the bench', () => {
  const metrics = (chunks: number, seconds: number, events: number) =>
    [
      `projection_chunk_duration_seconds_sum{service="query-service",runtime="live"} ${seconds}`,
      `projection_chunk_duration_seconds_count{service="query-service",runtime="live"} ${chunks}`,
      'projection_chunk_duration_seconds_count{service="query-service",runtime="rebuild"} 999',
      `projection_events_total{runtime="live",outcome="applied",service="query-service"} ${events}`,
      'projection_events_total{runtime="live",outcome="duplicate",service="query-service"} 50',
    ].join('\n');

  test("reads the live runtime's chunk count, write time and applied events, not the rebuild's", () => {
    assert.deepEqual(parseChunkTotals(metrics(10, 2.5, 40)), { chunks: 10, seconds: 2.5, events: 40 });
    assert.equal(parseChunkTotals('projection_events_total{runtime="live",outcome="applied"} 3'), undefined);
  });

  test('describes the chunks written between two readings', () => {
    const before = parseChunkTotals(metrics(10, 2.5, 40));
    const after = parseChunkTotals(metrics(110, 19.5, 460));
    assert.ok(before && after);
    assert.equal(
      describeChunks(before, after),
      'the live projection wrote 100 chunks meanwhile, 4.2 events each and 170 ms each to write on average ' +
        '(projection_chunk_duration_seconds, projection_events_total)',
    );
    assert.equal(describeChunks(after, after), undefined);
  });
});

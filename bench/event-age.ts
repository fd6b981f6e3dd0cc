/**
 * Where a read-after-write lag goes, from the query service's `projection_event_age_seconds`
 * histogram: its buckets are read before and after a paced run, and the difference gives each
 * stage's quantiles over the run's events (relay send, actor fetch, views written). The chunk
 * counters beside it tell how many writes those events took.
 */

const METRIC = 'projection_event_age_seconds';
export const EVENT_AGE_STAGES = ['published', 'fetched', 'written'] as const;

/** Cumulative bucket counts by upper bound (seconds; +Inf last), per stage. */
export type EventAgeBuckets = Map<string, [number, number][]>;

/** Reads the histogram's buckets out of a Prometheus text exposition; labels may come in any order. */
export function parseEventAge(metrics: string): EventAgeBuckets {
  const stages: EventAgeBuckets = new Map();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${METRIC}_bucket{`)) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const le = /(?:^|,)le="([^"]+)"/.exec(labels)?.[1];
    const stage = /(?:^|,)stage="([^"]+)"/.exec(labels)?.[1];
    const count = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le === undefined || stage === undefined || !Number.isFinite(count)) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    const buckets = stages.get(stage) ?? [];
    buckets.push([bound, count]);
    stages.set(stage, buckets);
  }
  for (const buckets of stages.values()) buckets.sort(([a], [b]) => a - b);
  return stages;
}

/** What was observed between two readings of the same process's histogram. */
export function eventAgeBetween(before: EventAgeBuckets, after: EventAgeBuckets): EventAgeBuckets {
  const between: EventAgeBuckets = new Map();
  for (const [stage, buckets] of after) {
    const earlier = new Map(before.get(stage) ?? []);
    between.set(
      stage,
      buckets.map(([bound, count]) => [bound, count - (earlier.get(bound) ?? 0)]),
    );
  }
  return between;
}

/**
 * The q-quantile in seconds, interpolated linearly within its bucket as Prometheus'
 * `histogram_quantile` does; the highest finite bound when it falls in +Inf; undefined without
 * observations.
 */
export function bucketQuantile(buckets: [number, number][], q: number): number | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / Math.max(1e-12, count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

/** One line for the report: each stage's p50 and p99 in ms, and how many events were timed. */
export function describeEventAge(between: EventAgeBuckets): string | undefined {
  const parts: string[] = [];
  let events = 0;
  for (const stage of EVENT_AGE_STAGES) {
    const buckets = between.get(stage);
    const p50 = buckets && bucketQuantile(buckets, 0.5);
    const p99 = buckets && bucketQuantile(buckets, 0.99);
    if (buckets === undefined || p50 === undefined || p99 === undefined) continue;
    events = Math.max(events, buckets.at(-1)?.[1] ?? 0);
    parts.push(`${stage} p50 ${Math.round(p50 * 1000)} ms, p99 ${Math.round(p99 * 1000)} ms`);
  }
  if (parts.length === 0) return undefined;
  return (
    `age of the ${events.toLocaleString('en-US')} events the query service applied meanwhile, from their ` +
    `occurredAt (${METRIC}, interpolated within its buckets): ${parts.join('; ')}`
  );
}

/**
 * The live projection's chunks: how many it wrote, their summed write time and the events it applied.
 * At a low write rate each partition's chunks are small, so per-chunk costs dominate what an event costs.
 */
export interface ChunkTotals {
  chunks: number;
  seconds: number;
  events: number;
}

const liveSample = (metrics: string, name: string, extra?: RegExp): number | undefined => {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!/(?:^|,)runtime="live"/.test(labels) || (extra && !extra.test(labels))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) return value;
  }
  return undefined;
};

export function parseChunkTotals(metrics: string): ChunkTotals | undefined {
  const chunks = liveSample(metrics, 'projection_chunk_duration_seconds_count');
  const seconds = liveSample(metrics, 'projection_chunk_duration_seconds_sum');
  const events = liveSample(metrics, 'projection_events_total', /(?:^|,)outcome="applied"/);
  if (chunks === undefined || seconds === undefined) return undefined;
  return { chunks, seconds, events: events ?? 0 };
}

/** One line for the report; undefined when no chunk was written between the two readings. */
export function describeChunks(before: ChunkTotals, after: ChunkTotals): string | undefined {
  const chunks = after.chunks - before.chunks;
  if (chunks <= 0) return undefined;
  const events = after.events - before.events;
  const ms = ((after.seconds - before.seconds) * 1000) / chunks;
  return (
    `the live projection wrote ${chunks.toLocaleString('en-US')} chunks meanwhile, ` +
    `${(events / chunks).toFixed(1)} events each and ${ms.toFixed(0)} ms each to write on average ` +
    '(projection_chunk_duration_seconds, projection_events_total)'
  );
}

/** The query service's metrics now; undefined when its /metrics does not answer. */
export async function readQueryMetrics(queryUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${queryUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

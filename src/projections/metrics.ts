import { Counter, Gauge, Histogram, type Registry } from '../infra/metrics.ts';

/**
 * Projection metrics, labelled by runtime (`live`, or `rebuild` while a rebuild runs in the process)
 * so that a rebuild's catch-up does not blur the live lag.
 */
export function createProjectionMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'projection_events_total',
      help: 'Records handled by the projection, by outcome (applied, duplicate, parked, unparked, dead_lettered)',
      labelNames: ['runtime', 'outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'projection_dead_letters_total',
      help: 'Poison records sent to the dead-letter topic, by reason',
      labelNames: ['runtime', 'reason'],
      registers,
    }),
    redrives: new Counter({
      name: 'projection_dead_letter_redrives_total',
      help: 'Dead letters published back to the event topic by an operator, by reason',
      labelNames: ['reason'],
      registers,
    }),
    viewReads: new Counter({
      name: 'query_view_reads_total',
      help: "Reads by id (kind=product) and list pages (kind=list), by source: the projection actors' memory or MongoDB",
      labelNames: ['kind', 'source'],
      registers,
    }),
    gaps: new Counter({
      name: 'projection_gaps_total',
      help: 'Events that arrived ahead of a missing version and were parked',
      labelNames: ['runtime'],
      registers,
    }),
    parked: new Gauge({
      name: 'projection_parked_events',
      help: 'Events parked waiting for a missing version, per partition',
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    staleGaps: new Gauge({
      name: 'projection_stale_parked_events',
      help: 'Parked events waiting longer than PROJECTION_STALE_GAP_SECONDS, per partition: a gap that may never fill',
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    cacheFilling: new Gauge({
      name: 'projection_cache_filling',
      help: "1 while the partition's actor reads its products into its cache after a start: until then it looks products up by id and lists are read from MongoDB",
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    oldestParkedAge: new Gauge({
      name: 'projection_oldest_parked_age_seconds',
      help: 'How long the longest-waiting parked event has waited, per partition (0: none parked)',
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    fencedWrites: new Counter({
      name: 'projection_fenced_writes_total',
      help: 'Product writes that found another version than planned (another writer moved the product on); the actor reloaded',
      labelNames: ['runtime'],
      registers,
    }),
    stateLoads: new Counter({
      name: 'projection_state_loads_total',
      help:
        "Partition actors' states: read from MongoDB (outcome=loaded) or kept across a rebalance that gave the " +
        'partition back to this member, nobody having written it meanwhile (outcome=kept)',
      labelNames: ['runtime', 'outcome'],
      registers,
    }),
    lag: new Gauge({
      name: 'projection_partition_lag',
      help: 'Records between the last applied offset and the partition end, as of the last batch',
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    paused: new Gauge({
      name: 'projection_partition_paused',
      help: '1 while a partition is paused because its writes fail (MongoDB down)',
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    writeFailures: new Counter({
      name: 'projection_write_failures_total',
      help: 'Chunks whose writes failed and will be retried',
      labelNames: ['runtime'],
      registers,
    }),
    lastEvent: new Gauge({
      name: 'projection_last_event_timestamp_seconds',
      help: 'occurredAt of the newest event seen, per partition',
      labelNames: ['runtime', 'partition'],
      registers,
    }),
    chunkDuration: new Histogram({
      name: 'projection_chunk_duration_seconds',
      help: 'Time to plan and write one chunk of records',
      labelNames: ['runtime'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventAge: new Histogram({
      name: 'projection_event_age_seconds',
      help:
        "Live projection: time from an event's occurredAt until the outbox relay sent it to Kafka (stage=published, " +
        "the record's timestamp), until its batch reached its partition actor (stage=fetched) and until its views " +
        'were written and readable (stage=written)',
      labelNames: ['stage'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

export type ProjectionMetrics = ReturnType<typeof createProjectionMetrics>;

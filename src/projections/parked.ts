import type { ProductEnvelope } from './record.ts';

export const PARKED_EVENTS = 'parked_events';

/** An event that arrived ahead of its predecessor, kept until the gap fills. */
export interface ParkedEventDoc {
  _id: string;
  partition: number;
  aggregateId: string;
  version: number;
  offset: number;
  envelope: ProductEnvelope;
  parkedAt: Date;
}

export type ParkedByAggregate = ReadonlyMap<string, readonly ParkedEventDoc[]>;

export function groupParked(docs: Iterable<ParkedEventDoc>): Map<string, ParkedEventDoc[]> {
  const byAggregate = new Map<string, ParkedEventDoc[]>();
  for (const doc of docs) byAggregate.set(doc.aggregateId, [...(byAggregate.get(doc.aggregateId) ?? []), doc]);
  for (const list of byAggregate.values()) list.sort((a, b) => a.version - b.version);
  return byAggregate;
}

export interface ParkedSummary {
  count: number;
  /** When the longest-waiting event was parked; null with nothing parked. */
  oldestParkedAt: Date | null;
  /** Parked events waiting longer than the bound: a gap that may never fill. */
  stale: number;
}

export function summarizeParked(parked: ParkedByAggregate, now: number, staleAfterMs: number): ParkedSummary {
  let count = 0;
  let stale = 0;
  let oldest: Date | null = null;
  for (const list of parked.values()) {
    for (const doc of list) {
      count += 1;
      if (now - doc.parkedAt.getTime() > staleAfterMs) stale += 1;
      if (oldest === null || doc.parkedAt < oldest) oldest = doc.parkedAt;
    }
  }
  return { count, oldestParkedAt: oldest, stale };
}

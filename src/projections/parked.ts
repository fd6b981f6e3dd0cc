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

/** What the operations console shows of a parked event. */
export interface ParkedEventInfo {
  partition: number;
  aggregateId: string;
  version: number;
  offset: number;
  parkedAt: string;
}

/** The `limit` events parked the longest. */
export function longestParked(parked: ParkedByAggregate, limit: number): ParkedEventInfo[] {
  const all: ParkedEventDoc[] = [];
  for (const list of parked.values()) all.push(...list);
  return all
    .sort((a, b) => a.parkedAt.getTime() - b.parkedAt.getTime())
    .slice(0, limit)
    .map(({ partition, aggregateId, version, offset, parkedAt }) => ({
      partition,
      aggregateId,
      version,
      offset,
      parkedAt: parkedAt.toISOString(),
    }));
}

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

export const countParked = (parked: ParkedByAggregate): number => {
  let count = 0;
  for (const list of parked.values()) count += list.length;
  return count;
};

/**
 * A rebuild's progress as the admin API shows it and `npm run rebuild` prints it. Phases, in order:
 * `counting` the events of the event store, `reading` and folding them, `writing` the product
 * documents, `catching-up` with the topic from the handover offsets, `switching` the pointer, then
 * `done` (or `failed` at any point, the current views staying in use).
 */
export type RebuildPhase = 'counting' | 'reading' | 'writing' | 'catching-up' | 'switching' | 'done' | 'failed';

export interface HandoverProgress {
  partition: number;
  /** The partition's end offset recorded before the event store was read: where the topic takes over. */
  handover: number;
  /** The rebuild's committed offset in the partition now. */
  offset: number;
  /** The end offset it is catching up to. */
  target: number;
}

export interface RebuildProgress {
  generation: number;
  phase: RebuildPhase;
  startedAt: string;
  finishedAt: string | null;
  /** Events in the event store when the rebuild began (what `percent` is of). */
  totalEvents: number;
  /** Events read from the event store so far (may end above `totalEvents`: writes go on meanwhile). */
  eventsRead: number;
  /** Share of `totalEvents` read, 0-100. */
  percent: number;
  /** Events read per second: of the reading while reading, from the start to the switch once done. */
  eventsPerSecond: number;
  /** Products folded so far. */
  products: number;
  productsWritten: number;
  priceHistoryWritten: number;
  /** Documents (products and price history) written per second since reading began. */
  documentsPerSecond: number;
  /** Events of the event store the live projection would dead-letter (schema, type...): not applied. */
  skipped: number;
  /** Seconds until the current phase ends at the current rate; null when unknown. */
  etaSeconds: number | null;
  /** Per partition, once the handover offsets are recorded. */
  partitions: HandoverProgress[];
  /** Records consumed from the topic after the handover offsets. */
  caughtUp: number;
  error: string | null;
}

export const perSecond = (count: number, ms: number): number => (ms <= 0 ? 0 : Math.round((count * 1000) / ms));

/** Seconds to finish `remaining` at `rate` per second; null without a rate. */
export const etaSeconds = (remaining: number, rate: number): number | null =>
  rate > 0 ? Math.ceil(Math.max(0, remaining) / rate) : null;

export const percentOf = (done: number, total: number): number =>
  total <= 0 ? 100 : Math.min(100, Math.floor((100 * done) / total));

const n = (value: number): string => value.toLocaleString('en-US');

const eta = (seconds: number | null): string => (seconds === null ? 'ETA unknown' : `ETA ${n(seconds)} s`);

/** One line of `npm run rebuild`'s output. */
export function progressLine(p: RebuildProgress): string {
  const head = `rebuild g${p.generation}:`;
  switch (p.phase) {
    case 'counting':
      return `${head} counting the events of the event store`;
    case 'reading':
      return (
        `${head} reading ${n(p.eventsRead)}/${n(p.totalEvents)} events (${p.percent}%), ` +
        `${n(p.eventsPerSecond)} events/s, ${eta(p.etaSeconds)}; ${n(p.products)} products, ` +
        `${n(p.priceHistoryWritten)} price history entries written`
      );
    case 'writing':
      return (
        `${head} writing ${n(p.productsWritten)}/${n(p.products)} products ` +
        `(${percentOf(p.productsWritten, p.products)}%), ${n(p.documentsPerSecond)} documents/s, ${eta(p.etaSeconds)}; ` +
        `read ${n(p.eventsRead)} events`
      );
    case 'catching-up': {
      const behind = p.partitions.reduce((sum, q) => sum + Math.max(0, q.target - q.offset), 0);
      return `${head} catching up from the topic: ${n(p.caughtUp)} records since the handover, ${n(behind)} to go`;
    }
    case 'switching':
      return `${head} switching reads to the new views`;
    case 'done': {
      const seconds = ((Date.parse(p.finishedAt ?? p.startedAt) - Date.parse(p.startedAt)) / 1000).toFixed(1);
      return (
        `${head} views switched after ${n(p.eventsRead)} events from the event store ` +
        `(${n(p.products)} products, ${n(p.caughtUp)} records from the topic) in ${seconds} s, ${n(p.eventsPerSecond)} events/s`
      );
    }
    case 'failed':
      return `${head} failed: ${p.error ?? 'unknown error'}`;
  }
}

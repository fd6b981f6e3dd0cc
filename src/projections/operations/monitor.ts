import type { ParkedEventInfo } from '../parked.ts';
import type { ActorProgress } from '../partition-actor.ts';
import type { RebuildProgress } from '../rebuild-progress.ts';
import type { PartitionStatus, ProjectionsStatus } from '../status.ts';

/** One partition as the operations console shows it: the group's view plus this process's actor. */
export interface PartitionOperations extends PartitionStatus {
  /** Events parked in this partition; null unless this process owns it and holds its state. */
  parked: number | null;
}

export interface ParkedOperations extends ParkedEventInfo {
  ageSeconds: number;
}

export interface Rates {
  /** Records appended to the event topic per second (the write rate), between the last two samples. */
  publishedPerSecond: number | null;
  /** Records the consumer group committed per second (the projection rate). */
  projectedPerSecond: number | null;
}

/** What the console's `status` event carries, once a second while a console is open. */
export interface OperationsStatus {
  at: string;
  /** When this process started: a browser that sees it change knows the service restarted. */
  serviceStartedAt: string;
  topic: string;
  consumerGroup: string;
  generation: number;
  totalLag: number;
  rates: Rates;
  partitions: PartitionOperations[];
  /** Parked events of the partitions this process owns, the longest parked first. */
  parked: { count: number; longest: ParkedOperations[] };
  /** The rebuild this process started last, if any. */
  rebuild: RebuildProgress | null;
}

/** One point of the console's charts. */
export interface ChartPoint {
  at: string;
  totalLag: number;
  publishedPerSecond: number | null;
  projectedPerSecond: number | null;
  /** Lag per partition, indexed by partition number. */
  lags: number[];
}

export interface ChartHistory {
  windowSeconds: number;
  points: ChartPoint[];
}

interface Totals {
  atMs: number;
  consumerGroup: string;
  published: number;
  projected: number;
}

const totalsOf = (status: ProjectionsStatus, atMs: number): Totals => ({
  atMs,
  consumerGroup: status.consumerGroup,
  published: status.partitions.reduce((sum, p) => sum + p.endOffset, 0),
  projected: status.partitions.reduce((sum, p) => sum + (p.committedOffset ?? 0), 0),
});

const perSecond = (delta: number, ms: number): number => Math.max(0, Math.round((delta * 10_000) / ms) / 10);

/**
 * Rates between two samples. A switch of consumer group (a rebuild's new generation) restarts the
 * projection rate, whose committed offsets belong to another group.
 */
export function ratesBetween(previous: Totals | undefined, current: Totals): Rates {
  const ms = previous ? current.atMs - previous.atMs : 0;
  if (!previous || ms <= 0) return { publishedPerSecond: null, projectedPerSecond: null };
  return {
    publishedPerSecond: perSecond(current.published - previous.published, ms),
    projectedPerSecond:
      previous.consumerGroup === current.consumerGroup ? perSecond(current.projected - previous.projected, ms) : null,
  };
}

/** The parked events of this process's actors, the `limit` longest parked, with their age. */
export function parkedOf(local: readonly ActorProgress[], nowMs: number, limit: number): OperationsStatus['parked'] {
  const all = local.flatMap((actor) => actor.parked);
  const longest = all
    .sort((a, b) => Date.parse(a.parkedAt) - Date.parse(b.parkedAt))
    .slice(0, limit)
    .map((p) => ({ ...p, ageSeconds: Math.max(0, Math.floor((nowMs - Date.parse(p.parkedAt)) / 1000)) }));
  return { count: local.reduce((sum, actor) => sum + (actor.parkedCount ?? 0), 0), longest };
}

export interface MonitorSources {
  /** The consumer group's progress, as GET /projections answers it. */
  status: () => Promise<ProjectionsStatus>;
  /** This process's partition actors. */
  local: () => ActorProgress[];
  rebuild: () => RebuildProgress | null;
  startedAt: Date;
  now?: () => number;
}

const PARKED_SHOWN = 20;

/**
 * Samples the projection's state for the operations console and keeps the last `windowMs` of it for
 * the charts. Sampling is the caller's to schedule (see OperationsFeed); this class only remembers.
 */
export class OperationsMonitor {
  private previous: Totals | undefined;
  private readonly points: ChartPoint[] = [];
  private readonly now: () => number;

  constructor(
    private readonly sources: MonitorSources,
    private readonly windowMs: number,
  ) {
    this.now = sources.now ?? Date.now;
  }

  async sample(): Promise<OperationsStatus> {
    const status = await this.sources.status();
    const atMs = this.now();
    const totals = totalsOf(status, atMs);
    const rates = ratesBetween(this.previous, totals);
    this.previous = totals;
    const local = this.sources.local();
    const localBy = new Map(local.map((actor) => [actor.partition, actor]));
    const at = new Date(atMs).toISOString();
    const lags: number[] = [];
    for (const p of status.partitions) lags[p.partition] = p.lag;
    this.points.push({ at, totalLag: status.totalLag, ...rates, lags: Array.from(lags, (lag) => lag ?? 0) });
    while (this.points.length > 0 && Date.parse((this.points[0] as ChartPoint).at) < atMs - this.windowMs) {
      this.points.shift();
    }
    return {
      at,
      serviceStartedAt: this.sources.startedAt.toISOString(),
      topic: status.topic,
      consumerGroup: status.consumerGroup,
      generation: status.generation,
      totalLag: status.totalLag,
      rates,
      partitions: status.partitions.map((p) => ({ ...p, parked: localBy.get(p.partition)?.parkedCount ?? null })),
      parked: parkedOf(local, atMs, PARKED_SHOWN),
      rebuild: this.sources.rebuild(),
    };
  }

  history(): ChartHistory {
    return { windowSeconds: Math.round(this.windowMs / 1000), points: [...this.points] };
  }
}

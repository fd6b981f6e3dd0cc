import type { ParkedEventDoc } from './parked.ts';
import { checkEnvelope, type PoisonReason, type ProductEnvelope } from './record.ts';
import { versionVerdict } from './version-guard.ts';
import { applyChange, type CatalogStats, emptyStats, type StatsShard, shardId } from './views/catalog-stats/view.ts';
import { type PriceHistoryDoc, priceHistoryEntry } from './views/price-history/view.ts';
import { evolveProduct, type ProductDoc } from './views/products/view.ts';

export interface FoldCounts {
  /** Events given to the fold. */
  events: number;
  applied: number;
  /** Versions already applied (the event store has none; counted for completeness). */
  duplicates: number;
  /** Events behind a version that never came (one the projection could not apply): kept as parked. */
  parked: number;
  /** Events the live projection would dead-letter, by reason: not applied. */
  skipped: Partial<Record<PoisonReason, number>>;
}

/**
 * The views of the whole catalog folded in memory from the event store, with the projection's own
 * pure functions (`checkEnvelope`, `versionVerdict`, `evolveProduct`, `priceHistoryEntry`,
 * `applyChange`), so each document is what the live projection would have written after applying
 * the same events: the same checks, the same partition, the same history entries, the same stats.
 * Only `validFrom` (projection time) and the stats shards' watermark and offset are the rebuild's.
 *
 * Events of a product arrive in version order (the event store's commit order keeps it). Price
 * history entries are handed out as they accumulate (`takeHistory`), being final when made; product
 * documents only once everything has been read (`products`).
 */
export class CatalogFold {
  private readonly docs = new Map<string, ProductDoc>();
  private readonly waiting = new Map<string, ParkedEventDoc[]>();
  private history: PriceHistoryDoc[] = [];
  private readonly lastEventAt = new Map<number, Date>();
  readonly counts: FoldCounts = { events: 0, applied: 0, duplicates: 0, parked: 0, skipped: {} };

  constructor(
    private readonly partitionOf: (productId: string) => number,
    /** Projection time of every rebuilt document. */
    private readonly validFrom: Date,
    /** When parked events are parked. */
    private readonly now: Date = new Date(),
  ) {}

  /** Applies one event as read from the event store (an envelope, possibly with more fields). */
  add(event: { aggregateId: string }): void {
    this.counts.events += 1;
    const checked = checkEnvelope(event, event.aggregateId);
    if (!checked.ok) {
      this.counts.skipped[checked.reason] = (this.counts.skipped[checked.reason] ?? 0) + 1;
      return;
    }
    const envelope = checked.envelope;
    const id = envelope.aggregateId;
    const partition = this.partitionOf(id);
    const occurredAt = new Date(envelope.occurredAt);
    const last = this.lastEventAt.get(partition);
    if (last === undefined || occurredAt > last) this.lastEventAt.set(partition, occurredAt);

    const verdict = versionVerdict(this.docs.get(id)?.version ?? 0, envelope.version);
    if (verdict === 'duplicate') {
      this.counts.duplicates += 1;
    } else if (verdict === 'gap') {
      this.park(envelope, partition);
    } else {
      this.apply(envelope, partition);
      this.drain(id, partition);
    }
  }

  /** Products folded so far. */
  get productCount(): number {
    return this.docs.size;
  }

  /** The price history entries made since the last call; each is final. */
  takeHistory(): PriceHistoryDoc[] {
    const taken = this.history;
    this.history = [];
    return taken;
  }

  /** Every product document, as it stands after the events added so far. */
  products(): IterableIterator<ProductDoc> {
    return this.docs.values();
  }

  /** Events still waiting for a missing version, as the live projection would have parked them. */
  parkedEvents(): ParkedEventDoc[] {
    return [...this.waiting.values()].flat();
  }

  /** The catalog totals of each partition's products. */
  statsByPartition(): Map<number, CatalogStats> {
    const stats = new Map<number, CatalogStats>();
    for (const doc of this.docs.values()) {
      stats.set(doc.partition, applyChange(stats.get(doc.partition) ?? emptyStats(), null, doc));
    }
    return stats;
  }

  /**
   * One stats shard per partition, counting every product folded, as having counted the partition
   * up to `handover` (the partition's end offset when the rebuild began, the offset its live
   * projection continues from): a record below it adds nothing again, one at or above it counts
   * if the version guard applies it. `watermark` promises the documents written with `validFrom`.
   */
  shards(handover: ReadonlyMap<number, number>, updatedAt: Date): StatsShard[] {
    const stats = this.statsByPartition();
    return [...handover.keys()]
      .sort((a, b) => a - b)
      .map((partition) => ({
        _id: shardId(partition),
        partition,
        offset: (handover.get(partition) ?? 0) - 1,
        watermark: this.validFrom,
        lastEventAt: this.lastEventAt.get(partition) ?? null,
        updatedAt,
        ...(stats.get(partition) ?? emptyStats()),
      }));
  }

  private apply(event: ProductEnvelope, partition: number): void {
    const before = this.docs.get(event.aggregateId) ?? null;
    this.docs.set(event.aggregateId, evolveProduct(before, event, partition, this.validFrom));
    const entry = priceHistoryEntry(event, partition);
    if (entry) this.history.push(entry);
    this.counts.applied += 1;
  }

  private park(event: ProductEnvelope, partition: number): void {
    const waiting = this.waiting.get(event.aggregateId) ?? [];
    if (waiting.some((p) => p.version === event.version)) {
      this.counts.duplicates += 1;
      return;
    }
    waiting.push({
      _id: event.eventId,
      partition,
      aggregateId: event.aggregateId,
      version: event.version,
      // Read from the event store, not from a partition: no offset. Nothing reads it back.
      offset: -1,
      envelope: event,
      parkedAt: this.now,
    });
    waiting.sort((a, b) => a.version - b.version);
    this.waiting.set(event.aggregateId, waiting);
    this.counts.parked += 1;
  }

  /** Applies parked events the last one made current, as the live projection's `drainParked`. */
  private drain(id: string, partition: number): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    while (waiting.length > 0) {
      const head = waiting[0] as ParkedEventDoc;
      const verdict = versionVerdict(this.docs.get(id)?.version ?? 0, head.version);
      if (verdict === 'gap') break;
      waiting.shift();
      this.counts.parked -= 1;
      if (verdict === 'apply') this.apply(head.envelope, partition);
      else this.counts.duplicates += 1;
    }
    if (waiting.length === 0) this.waiting.delete(id);
  }
}

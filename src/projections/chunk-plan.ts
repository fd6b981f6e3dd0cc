import type { ParkedByAggregate, ParkedEventDoc } from './parked.ts';
import type { DecodedRecord, ProductEnvelope } from './record.ts';
import { versionVerdict } from './version-guard.ts';
import { applyChange, countersOf, type StatsShard } from './views/catalog-stats/view.ts';
import { type PriceHistoryDoc, priceHistoryEntry } from './views/price-history/view.ts';
import { type ProductVersionDoc, supersededVersion } from './views/products/versions.ts';
import { evolveProduct, type ProductDoc } from './views/products/view.ts';

export type PoisonRecord = Extract<DecodedRecord, { kind: 'poison' }>;

export interface ChunkInput {
  partition: number;
  /** The shard as stored, with the watermark the actor will write. */
  shard: StatsShard;
  parked: ParkedByAggregate;
  /** The stored document of every aggregate in `records` (null: the view has none). */
  lookup: (aggregateId: string) => ProductDoc | null;
  records: readonly DecodedRecord[];
  /** Projection time of this chunk's versions; later than every watermark written so far. */
  validFrom: Date;
  /** Keep superseded versions for list snapshots (a rebuild that nobody reads yet does not need them). */
  keepVersions: boolean;
  now: Date;
}

/** Everything a chunk writes, in the order the actor writes it (see partition-actor.ts). */
export interface ChunkPlan {
  deadLetters: PoisonRecord[];
  shard: StatsShard;
  parkedInserts: ParkedEventDoc[];
  historyInserts: PriceHistoryDoc[];
  versionInserts: ProductVersionDoc[];
  /** The final document of each product the chunk changed. */
  products: ProductDoc[];
  /** Ids of those the view held no document for before the chunk: theirs can be inserted. */
  created: Set<string>;
  /** For every other product, the version of the document its write replaces (the fence). */
  replaces: Map<string, number>;
  parkedDeletes: string[];
  /** Parked events left after the chunk, by aggregate. */
  parked: Map<string, ParkedEventDoc[]>;
  counts: { applied: number; duplicates: number; parked: number; unparked: number; deadLettered: number };
  /** Offset of the chunk's last record: the one to commit, whatever the shard had counted before. */
  lastOffset: number;
}

/**
 * Plans the writes of a run of records from one partition, in offset order, from the state the view
 * holds. Pure, so redelivery after a crash at any point between the writes plans the same documents:
 * product documents are guarded by version, the stats shard by offset, parked and history documents
 * are keyed by event. An unparked event counts in the stats at the offset of the record that filled
 * its gap.
 */
export function planChunk(input: ChunkInput): ChunkPlan {
  const { partition, shard, lookup, validFrom } = input;
  const docs = new Map<string, ProductDoc | null>();
  const parked = new Map<string, ParkedEventDoc[]>([...input.parked].map(([id, list]) => [id, [...list]]));
  const plan: ChunkPlan = {
    deadLetters: [],
    shard,
    parkedInserts: [],
    historyInserts: [],
    versionInserts: [],
    products: [],
    created: new Set(),
    replaces: new Map(),
    parkedDeletes: [],
    parked,
    counts: { applied: 0, duplicates: 0, parked: 0, unparked: 0, deadLettered: 0 },
    lastOffset: input.records.at(-1)?.offset ?? shard.offset,
  };
  const versions = new Map<string, ProductVersionDoc>();
  let stats = countersOf(shard);
  let lastEventAt = shard.lastEventAt;

  const current = (id: string): ProductDoc | null => (docs.has(id) ? (docs.get(id) ?? null) : lookup(id));

  const apply = (event: ProductEnvelope, counted: boolean): ProductDoc => {
    const before = current(event.aggregateId);
    const after = evolveProduct(before, event, partition, validFrom);
    docs.set(event.aggregateId, after);
    if (counted) stats = applyChange(stats, before, after);
    const entry = priceHistoryEntry(event, partition);
    if (entry) plan.historyInserts.push(entry);
    // A version that became current earlier in this same chunk was never visible to anyone.
    if (input.keepVersions && before && before.validFrom < validFrom && !versions.has(before.id)) {
      versions.set(before.id, supersededVersion(before, validFrom));
    }
    plan.counts.applied += 1;
    return after;
  };

  const drainParked = (id: string, doc: ProductDoc, counted: boolean): void => {
    const waiting = parked.get(id) ?? [];
    let version = doc.version;
    while (waiting.length > 0) {
      const head = waiting[0] as ParkedEventDoc;
      const verdict = versionVerdict(version, head.version);
      if (verdict === 'gap') break;
      waiting.shift();
      plan.parkedDeletes.push(head._id);
      if (verdict === 'apply') {
        version = apply(head.envelope, counted).version;
        plan.counts.unparked += 1;
      }
    }
    if (waiting.length === 0) parked.delete(id);
  };

  for (const record of input.records) {
    if (record.kind === 'poison') {
      plan.deadLetters.push(record);
      plan.counts.deadLettered += 1;
      continue;
    }
    const event = record.envelope;
    const id = event.aggregateId;
    const occurredAt = new Date(event.occurredAt);
    if (lastEventAt === null || occurredAt > lastEventAt) lastEventAt = occurredAt;
    const verdict = versionVerdict(current(id)?.version ?? 0, event.version);
    if (verdict === 'duplicate') {
      plan.counts.duplicates += 1;
      continue;
    }
    if (verdict === 'gap') {
      const waiting = parked.get(id) ?? [];
      if (!waiting.some((p) => p.version === event.version)) {
        const doc: ParkedEventDoc = {
          _id: event.eventId,
          partition,
          aggregateId: id,
          version: event.version,
          offset: record.offset,
          envelope: event,
          parkedAt: input.now,
        };
        parked.set(
          id,
          [...waiting, doc].sort((a, b) => a.version - b.version),
        );
        plan.parkedInserts.push(doc);
        plan.counts.parked += 1;
      } else {
        plan.counts.duplicates += 1;
      }
      continue;
    }
    const counted = record.offset > shard.offset;
    drainParked(id, apply(event, counted), counted);
  }

  // Parked events inserted and applied within the same chunk need neither write.
  const inserted = new Set(plan.parkedInserts.map((p) => p._id));
  const deleted = new Set(plan.parkedDeletes);
  plan.parkedInserts = plan.parkedInserts.filter((p) => !deleted.has(p._id));
  plan.parkedDeletes = plan.parkedDeletes.filter((id) => !inserted.has(id));

  for (const doc of docs.values()) {
    if (!doc) continue;
    plan.products.push(doc);
    const stored = lookup(doc._id);
    if (stored === null) plan.created.add(doc._id);
    else plan.replaces.set(doc._id, stored.version);
  }
  plan.versionInserts = [...versions.values()];
  plan.shard = {
    ...shard,
    ...stats,
    offset: Math.max(shard.offset, plan.lastOffset),
    lastEventAt,
    updatedAt: input.now,
  };
  return plan;
}

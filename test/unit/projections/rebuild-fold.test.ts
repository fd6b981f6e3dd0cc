import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_AMOUNT } from '../../../src/domain/money.ts';
import { planChunk } from '../../../src/projections/chunk-plan.ts';
import { ExpectedCatalog } from '../../../src/projections/consistency.ts';
import { groupParked, type ParkedEventDoc } from '../../../src/projections/parked.ts';
import { partitionerFor } from '../../../src/projections/partitioning.ts';
import { CatalogFold } from '../../../src/projections/rebuild-fold.ts';
import { decodeRecord, type ProductEnvelope } from '../../../src/projections/record.ts';
import {
  type CatalogStats,
  countersOf,
  emptyShard,
  emptyStats,
  type StatsShard,
  sumShards,
} from '../../../src/projections/views/catalog-stats/view.ts';
import type { PriceHistoryDoc } from '../../../src/projections/views/price-history/view.ts';
import { type ProductDoc, toProductView } from '../../../src/projections/views/products/view.ts';
import { kafkaMessage, StreamBuilder } from './stream-builder.ts';

const validFrom = new Date('2026-03-01T00:00:00.000Z');

/** Streams of every kind of event, interleaved as a log would hold them. */
function catalog(products: number, perProduct: number): ProductEnvelope[] {
  const streams = Array.from({ length: products }, (_, p) => {
    const b = new StreamBuilder();
    const events = [b.created({ stock: 20, price: { amount: 500 + p, currency: p % 3 === 0 ? 'USD' : 'EUR' } })];
    for (let i = 1; i < perProduct; i++) {
      const step = (p + i) % 5;
      if (i === perProduct - 1 && p % 4 === 0) events.push(b.discontinued());
      else if (step === 0) events.push(b.priceChanged(b.price.amount + 3));
      else if (step === 1) events.push(b.reserved(1));
      else if (step === 2) events.push(b.restocked(2));
      else if (step === 3) events.push(b.renamed(`${b.name}+`));
      else events.push(b.priceChanged(b.price.amount + 1));
    }
    return events;
  });
  const log: ProductEnvelope[] = [];
  for (let i = 0; i < perProduct; i++) for (const s of streams) if (s[i]) log.push(s[i] as ProductEnvelope);
  return log;
}

/**
 * What the live projection writes for the same log: each event published to the partition of its
 * product, each partition's records applied by `planChunk` in chunks of `chunkSize`, the plans' writes
 * kept as a store would keep them.
 */
function liveProjection(log: ProductEnvelope[], partitions: number, chunkSize: number) {
  const partitionOf = partitionerFor(partitions);
  const byPartition = new Map<number, ProductEnvelope[]>();
  for (const e of log)
    byPartition.set(partitionOf(e.aggregateId), [...(byPartition.get(partitionOf(e.aggregateId)) ?? []), e]);
  const products = new Map<string, ProductDoc>();
  const history = new Map<string, PriceHistoryDoc>();
  const shards: StatsShard[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const records = (byPartition.get(partition) ?? []).map((e, offset) => decodeRecord(kafkaMessage(e, offset)));
    let shard = emptyShard(partition);
    let parked = new Map<string, ParkedEventDoc[]>();
    for (let start = 0; start < records.length; start += chunkSize) {
      const plan = planChunk({
        partition,
        shard,
        parked: groupParked([...parked.values()].flat()),
        lookup: (id) => products.get(id) ?? null,
        records: records.slice(start, start + chunkSize),
        validFrom,
        keepVersions: false,
        now: validFrom,
      });
      shard = plan.shard;
      parked = plan.parked;
      for (const h of plan.historyInserts) history.set(h._id, h);
      for (const doc of plan.products) products.set(doc._id, doc);
    }
    shards.push(shard);
  }
  return { products, history, shards };
}

function fold(log: unknown[], partitions: number) {
  const folded = new CatalogFold(partitionerFor(partitions), validFrom);
  const history: PriceHistoryDoc[] = [];
  for (const event of log) {
    folded.add(event as { aggregateId: string });
    history.push(...folded.takeHistory());
  }
  return { folded, history };
}

const byId = <T extends { _id: string }>(docs: Iterable<T>): T[] =>
  [...docs].sort((a, b) => a._id.localeCompare(b._id));

describe('folding the event store into the views', () => {
  test('writes the documents, price history and stats the live projection writes for the same events', () => {
    const log = catalog(60, 7);
    const live = liveProjection(log, 4, 25);
    const { folded, history } = fold(log, 4);
    assert.deepEqual(byId(folded.products()), byId(live.products.values()));
    assert.deepEqual(byId(history), byId(live.history.values()));
    const handover = new Map(live.shards.map((s) => [s.partition, s.offset + 1]));
    const shards = folded.shards(handover, validFrom);
    assert.deepEqual(
      shards.map((s) => ({ ...countersOf(s), partition: s.partition, offset: s.offset, lastEventAt: s.lastEventAt })),
      live.shards.map((s) => ({
        ...countersOf(s),
        partition: s.partition,
        offset: s.offset,
        lastEventAt: s.lastEventAt,
      })),
    );
    assert.equal(folded.counts.applied, log.length);
  });

  test('whatever the partition count and the live projection chunk size, the documents are the same', () => {
    const log = catalog(25, 5);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 40 }), (partitions, chunk) => {
        const live = liveProjection(log, partitions, chunk);
        const { folded } = fold(log, partitions);
        assert.deepEqual(byId(folded.products()), byId(live.products.values()));
        assert.deepEqual(
          [...folded.statsByPartition()].sort(([a], [b]) => a - b).map(([, s]) => s),
          live.shards.filter((s) => s.activeProducts + s.discontinuedProducts > 0).map(countersOf),
        );
      }),
      { numRuns: 30 },
    );
  });

  test("equals verify's fold of the same events with the domain's evolve", () => {
    const log = catalog(40, 6);
    const expected = new ExpectedCatalog();
    for (const e of log) expected.add(e);
    const { folded } = fold(log, 12);
    const views = new Map([...folded.products()].map((doc) => [doc.id, toProductView(doc)]));
    assert.deepEqual(views, expected.products());
    const total: CatalogStats = sumShards(folded.shards(new Map([[0, 0]]), validFrom));
    // One shard asked for, but every partition's products counted: shards for all partitions are needed.
    assert.notDeepEqual(total, expected.stats());
    const handover = new Map(Array.from({ length: 12 }, (_, p) => [p, 0] as const));
    assert.deepEqual(sumShards(folded.shards(handover, validFrom)), expected.stats());
  });

  test("the shards' sum equals verify's also past 2^53 minor units", () => {
    const inPartition = (partition: number) => {
      for (;;) {
        const b = new StreamBuilder();
        if (partitionerFor(2)(b.id) === partition) return b;
      }
    };
    // Partition 0 holds 2^53 - 2 minor units, partition 1 four products of 1: exactly 2^53 + 2 in all.
    // Added one product at a time as doubles, the last two +1 round away (2^53 + 1 is not a double).
    const log = [
      inPartition(0).created({ stock: 2 * 67_108_863, price: { amount: 67_108_865, currency: 'EUR' } }),
      ...[1, 1, 1, 1].map(() => inPartition(1).created({ stock: 1, price: { amount: 1, currency: 'EUR' } })),
    ];
    const expected = new ExpectedCatalog();
    for (const e of log) expected.add(e);
    const { folded } = fold(log, 2);
    const handover = new Map([
      [0, 0],
      [1, 0],
    ]);
    const total = sumShards(folded.shards(handover, validFrom));
    assert.equal(total.inventoryValue.EUR, 2n ** 53n + 2n);
    assert.deepEqual(total, expected.stats());
  });

  test('two stocks of 2^53 - 1 at the largest price in one partition: the shard is exact and the live one', () => {
    const price = { amount: MAX_AMOUNT, currency: 'EUR' };
    const [a, b] = [new StreamBuilder(), new StreamBuilder()];
    const log = [
      a.created({ stock: Number.MAX_SAFE_INTEGER, price }),
      b.created({ stock: Number.MAX_SAFE_INTEGER, price }),
      a.reserved(1),
    ];
    const { folded } = fold(log, 1);
    const live = liveProjection(log, 1, 1);
    const [shard] = folded.shards(new Map([[0, log.length]]), validFrom);
    const units = 2n * BigInt(Number.MAX_SAFE_INTEGER) - 1n;
    const stats = {
      activeProducts: 2,
      discontinuedProducts: 0,
      stockUnits: units,
      inventoryValue: { EUR: units * BigInt(MAX_AMOUNT) },
    };
    assert.deepEqual(countersOf(shard as StatsShard), stats);
    assert.deepEqual(live.shards.map(countersOf), [stats]);
    const expected = new ExpectedCatalog();
    for (const e of log) expected.add(e);
    assert.deepEqual(expected.stats(), stats);
  });

  test('each shard counted the partition up to the handover offset; partitions without products are empty', () => {
    const b = new StreamBuilder();
    const partition = partitionerFor(3)(b.id);
    const { folded } = fold([b.created({ stock: 4, price: { amount: 10, currency: 'EUR' } })], 3);
    const shards = folded.shards(
      new Map([
        [0, 7],
        [1, 0],
        [2, 12],
      ]),
      validFrom,
    );
    assert.deepEqual(
      shards.map((s) => [s._id, s.offset]),
      [
        ['p0', 6],
        ['p1', -1],
        ['p2', 11],
      ],
    );
    for (const shard of shards) {
      assert.equal(shard.watermark, validFrom);
      if (shard.partition === partition) {
        assert.deepEqual(countersOf(shard), {
          activeProducts: 1,
          discontinuedProducts: 0,
          stockUnits: 4n,
          inventoryValue: { EUR: 40n },
        });
      } else {
        assert.deepEqual(countersOf(shard), emptyStats());
        assert.equal(shard.lastEventAt, null);
      }
    }
  });

  test('an event the live projection would dead-letter is left out, and what follows it waits as parked', () => {
    const b = new StreamBuilder();
    const created = b.created({ stock: 3 });
    const newer = { ...b.restocked(1), schemaVersion: 2 };
    const after = b.restocked(5);
    const other = new StreamBuilder();
    const broken = { ...other.created(), data: { sku: '' } };
    const { folded, history } = fold([created, newer, after, broken], 4);
    assert.deepEqual(folded.counts.skipped, { 'unsupported-schema-version': 1, 'schema-violation': 1 });
    assert.equal(folded.counts.parked, 1);
    assert.deepEqual(
      folded.parkedEvents().map((p) => [p.aggregateId, p.version, p.partition]),
      [[b.id, 3, partitionerFor(4)(b.id)]],
    );
    const [doc, ...rest] = [...folded.products()];
    assert.equal(rest.length, 0);
    assert.equal(doc?.version, 1);
    assert.equal(doc?.stock, 3);
    assert.deepEqual(
      history.map((h) => h._id),
      [`${b.id}:1`],
    );
  });

  test('a version seen twice is applied once; a parked event is applied once its predecessor arrives', () => {
    const b = new StreamBuilder();
    const [v1, v2, v3] = [b.created({ stock: 1 }), b.restocked(2), b.restocked(4)];
    const { folded } = fold([v1, v1, v3, v3, v2], 2);
    assert.equal(folded.counts.duplicates, 2);
    assert.equal(folded.counts.parked, 0);
    assert.deepEqual(folded.parkedEvents(), []);
    const [doc] = [...folded.products()];
    assert.equal(doc?.version, 3);
    assert.equal(doc?.stock, 7);
  });

  test('price history entries are handed out once each', () => {
    const b = new StreamBuilder();
    const folded = new CatalogFold(partitionerFor(1), validFrom);
    folded.add(b.created());
    folded.add(b.priceChanged(2000));
    assert.deepEqual(
      folded.takeHistory().map((h) => h.version),
      [1, 2],
    );
    assert.deepEqual(folded.takeHistory(), []);
    folded.add(b.priceChanged(3000));
    assert.deepEqual(
      folded.takeHistory().map((h) => h.version),
      [3],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_AMOUNT } from '../../../src/domain/money.ts';
import { type ChunkPlan, planChunk } from '../../../src/projections/chunk-plan.ts';
import { groupParked, type ParkedEventDoc } from '../../../src/projections/parked.ts';
import { type DecodedRecord, decodeRecord, type ProductEnvelope } from '../../../src/projections/record.ts';
import { versionVerdict } from '../../../src/projections/version-guard.ts';
import {
  applyChange,
  type CatalogStats,
  countersOf,
  emptyShard,
  emptyStats,
  type StatsShard,
} from '../../../src/projections/views/catalog-stats/view.ts';
import { evolveProduct, type ProductDoc } from '../../../src/projections/views/products/view.ts';
import { kafkaMessage, StreamBuilder } from './stream-builder.ts';

const T = (ms: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + ms);

const records = (envelopes: unknown[], firstOffset = 0): DecodedRecord[] =>
  envelopes.map((e, i) => decodeRecord(kafkaMessage(e, firstOffset + i)));

interface Stored {
  shard: StatsShard;
  products: Map<string, ProductDoc>;
  parked: Map<string, ParkedEventDoc>;
  history: Set<string>;
}

const emptyStore = (): Stored => ({ shard: emptyShard(0), products: new Map(), parked: new Map(), history: new Set() });

function plan(stored: Stored, input: DecodedRecord[], validFrom = T(1000), keepVersions = false): ChunkPlan {
  return planChunk({
    partition: 0,
    shard: stored.shard,
    parked: groupParked(stored.parked.values()),
    lookup: (id) => stored.products.get(id) ?? null,
    records: input,
    validFrom,
    keepVersions,
    now: validFrom,
  });
}

/** The writes of a plan in the actor's order; `steps` cuts it short like a crash would. */
function write(stored: Stored, chunk: ChunkPlan, steps = 5): void {
  const writes = [
    () => {
      stored.shard = chunk.shard;
    },
    () => {
      for (const p of chunk.parkedInserts) if (!stored.parked.has(p._id)) stored.parked.set(p._id, p);
    },
    () => {
      for (const h of chunk.historyInserts) stored.history.add(h._id);
    },
    () => {
      for (const doc of chunk.products) stored.products.set(doc._id, doc);
    },
    () => {
      for (const id of chunk.parkedDeletes) stored.parked.delete(id);
    },
  ];
  for (const step of writes.slice(0, steps)) step();
}

describe('planning a chunk', () => {
  test('applies a stream in order into one final document, its price history and the stats', () => {
    const stream = new StreamBuilder();
    const events = [stream.created({ stock: 5, price: { amount: 200, currency: 'EUR' } }), stream.priceChanged(300)];
    events.push(stream.reserved(2));
    const chunk = plan(emptyStore(), records(events));
    assert.equal(chunk.products.length, 1);
    assert.equal(chunk.products[0]?.version, 3);
    assert.equal(chunk.products[0]?.stock, 3);
    assert.deepEqual(
      chunk.historyInserts.map((h) => h.version),
      [1, 2],
    );
    assert.deepEqual(countersOf(chunk.shard), {
      activeProducts: 1,
      discontinuedProducts: 0,
      stockUnits: 3n,
      inventoryValue: { EUR: 900n },
    });
    assert.equal(chunk.shard.offset, 2);
    assert.equal(chunk.lastOffset, 2);
    assert.equal(chunk.counts.applied, 3);
  });

  test('marks the products the view did not hold before the chunk as created, so they can be inserted', () => {
    const known = new StreamBuilder();
    const fresh = new StreamBuilder();
    const stored = emptyStore();
    write(stored, plan(stored, records([known.created()])));
    const chunk = plan(stored, records([known.restocked(2), fresh.created(), fresh.restocked(1)], 1));
    assert.deepEqual(chunk.products.map((p) => p._id).sort(), [known.id, fresh.id].sort());
    assert.deepEqual([...chunk.created], [fresh.id]);
  });

  test('the stats shard counts past 2^53 exactly: two stocks of 2^53 - 1 at the largest price, then a reservation', () => {
    const [a, b] = [new StreamBuilder(), new StreamBuilder()];
    const price = { amount: MAX_AMOUNT, currency: 'EUR' };
    const stored = emptyStore();
    write(
      stored,
      plan(
        stored,
        records([
          a.created({ stock: Number.MAX_SAFE_INTEGER, price }),
          b.created({ stock: Number.MAX_SAFE_INTEGER, price }),
        ]),
      ),
    );
    const units = 2n * BigInt(Number.MAX_SAFE_INTEGER);
    assert.equal(stored.shard.stockUnits, units);
    const next = plan(stored, records([a.reserved(1)], 2));
    assert.deepEqual(countersOf(next.shard), {
      activeProducts: 2,
      discontinuedProducts: 0,
      stockUnits: units - 1n,
      inventoryValue: { EUR: (units - 1n) * BigInt(MAX_AMOUNT) },
    });
  });

  test('events at or below the stored version change nothing', () => {
    const stream = new StreamBuilder();
    const events = [stream.created(), stream.restocked(1), stream.restocked(1)];
    const stored = emptyStore();
    write(stored, plan(stored, records(events)));
    const again = plan(stored, records(events, 3));
    assert.deepEqual(again.products, []);
    assert.deepEqual(again.historyInserts, []);
    assert.deepEqual(countersOf(again.shard), countersOf(stored.shard));
    assert.equal(again.counts.duplicates, 3);
    assert.equal(again.shard.offset, 5);
  });

  test('a redelivered record the stats shard already counted updates the product but not the stats', () => {
    const stream = new StreamBuilder();
    const input = records([stream.created({ stock: 4 })]);
    const stored = emptyStore();
    write(stored, plan(stored, input), 1);
    assert.equal(stored.products.size, 0);
    const retry = plan(stored, input);
    assert.equal(retry.products.length, 1);
    assert.deepEqual(countersOf(retry.shard), countersOf(stored.shard));
    assert.equal(countersOf(retry.shard).stockUnits, 4n);
  });

  test('an event ahead of a missing version is parked, then applied with the stats once the gap fills', () => {
    const stream = new StreamBuilder();
    const [v1, v2, v3] = [stream.created({ stock: 1 }), stream.restocked(2), stream.restocked(4)];
    const stored = emptyStore();
    const first = plan(stored, records([v1, v3]));
    assert.equal(first.counts.parked, 1);
    assert.equal(first.products[0]?.version, 1);
    assert.deepEqual(
      first.parkedInserts.map((p) => p.version),
      [3],
    );
    write(stored, first);
    const second = plan(stored, records([v2], 2));
    assert.equal(second.products[0]?.version, 3);
    assert.equal(second.products[0]?.stock, 7);
    assert.deepEqual(second.parkedDeletes, [v3?.eventId]);
    assert.equal(countersOf(second.shard).stockUnits, 7n);
    assert.equal(second.counts.unparked, 1);
    assert.equal(second.parked.size, 0);
  });

  test('a gap filled within the same chunk needs no parked document at all', () => {
    const stream = new StreamBuilder();
    const [v1, v2] = [stream.created(), stream.restocked(2)];
    const chunk = plan(emptyStore(), records([v2, v1]));
    assert.equal(chunk.products[0]?.version, 2);
    assert.deepEqual(chunk.parkedInserts, []);
    assert.deepEqual(chunk.parkedDeletes, []);
  });

  test('poison records are dead-lettered and the offset still moves past them', () => {
    const stream = new StreamBuilder();
    const input = [decodeRecord(kafkaMessage('{oops', 0, stream.id)), ...records([stream.created()], 1)];
    const chunk = plan(emptyStore(), input);
    assert.deepEqual(
      chunk.deadLetters.map((d) => d.reason),
      ['unparseable'],
    );
    assert.equal(chunk.products.length, 1);
    assert.equal(chunk.lastOffset, 1);
  });

  test('keeps the version a product had before the chunk, once, for list snapshots', () => {
    const a = new StreamBuilder();
    const stored = emptyStore();
    write(stored, plan(stored, records([a.created()]), T(100)));
    const b = new StreamBuilder();
    const chunk = plan(stored, records([a.priceChanged(5), a.priceChanged(6), b.created()], 1), T(200), true);
    assert.equal(chunk.versionInserts.length, 1);
    const [superseded] = chunk.versionInserts;
    assert.equal(superseded?._id, `${a.id}:1`);
    assert.equal(superseded?.validFrom.getTime(), T(100).getTime());
    assert.equal(superseded?.validTo.getTime(), T(200).getTime());
  });

  test('the version guard applies the next version, ignores old ones and parks later ones', () => {
    assert.equal(versionVerdict(3, 4), 'apply');
    assert.equal(versionVerdict(3, 3), 'duplicate');
    assert.equal(versionVerdict(3, 1), 'duplicate');
    assert.equal(versionVerdict(3, 5), 'gap');
  });
});

function expected(streams: ProductEnvelope[][]): { docs: Map<string, number>; stats: CatalogStats } {
  const docs = new Map<string, number>();
  let stats = emptyStats();
  for (const stream of streams) {
    let doc: ProductDoc | null = null;
    for (const event of stream) {
      const next: ProductDoc = evolveProduct(doc, event, 0, T(0));
      stats = applyChange(stats, doc, next);
      doc = next;
    }
    if (doc) docs.set(doc.id, doc.version);
  }
  return { docs, stats };
}

test('any delivery with duplicates, replays and crashes between writes ends in the views of one clean pass', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.constantFrom('price', 'restock', 'reserve', 'rename', 'discontinue'), { maxLength: 6 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.integer({ min: 1, max: 7 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 4 })), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 4 }),
      (scripts, chunkSize, crashes, replays) => {
        const streams = scripts.map((script) => {
          const b = new StreamBuilder();
          const events = [b.created({ stock: 20 })];
          for (const step of script) {
            if (events.at(-1)?.type === 'ProductDiscontinued') break;
            if (step === 'price') events.push(b.priceChanged(b.price.amount + 10));
            if (step === 'restock') events.push(b.restocked(3));
            if (step === 'reserve') events.push(b.reserved(1));
            if (step === 'rename') events.push(b.renamed(`${b.name}!`));
            if (step === 'discontinue') events.push(b.discontinued());
          }
          return events;
        });
        // Interleave the streams (order within each stream kept), then replay some ranges (relay duplicates).
        const log: ProductEnvelope[] = [];
        const cursors = streams.map(() => 0);
        for (let i = 0; log.length < streams.flat().length; i++) {
          const s = i % streams.length;
          const event = streams[s]?.[cursors[s] ?? 0];
          if (event) {
            log.push(event);
            cursors[s] = (cursors[s] ?? 0) + 1;
          }
        }
        for (const start of replays) log.push(...log.slice(start % log.length, (start % log.length) + 3));

        const stored = emptyStore();
        let committed = 0;
        const pendingCrashes = [...crashes];
        let clock = 0;
        while (committed < log.length) {
          const input = records(log.slice(committed, committed + chunkSize), committed);
          clock += 10;
          const chunk = plan(stored, input, T(clock));
          const crash = pendingCrashes.shift();
          if (crash && crash[0] % 2 === 0) {
            write(stored, chunk, crash[1]);
            continue; // crashed before the commit: the same offsets come again
          }
          write(stored, chunk);
          committed = chunk.lastOffset + 1;
        }
        const want = expected(streams);
        assert.deepEqual(new Map([...stored.products].map(([id, doc]) => [id, doc.version])), want.docs);
        assert.deepEqual(countersOf(stored.shard), want.stats);
        assert.equal(stored.parked.size, 0);
      },
    ),
    { numRuns: 300 },
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bulkhead, BulkheadFull } from '../../../src/infra/bulkhead.ts';
import type { Db } from '../../../src/infra/mongo.ts';
import { type InMemoryProducts, type ReadSource, ViewReader } from '../../../src/projections/view-reader.ts';
import type { ProductDoc } from '../../../src/projections/views/products/view.ts';

/** A database every find of which is recorded, and answered with nothing once `answer` is called. */
function recordingDb() {
  const finds: string[] = [];
  const waiting: (() => void)[] = [];
  const find = <T>(name: string, nothing: T) => {
    finds.push(name);
    return new Promise<T>((resolve) => waiting.push(() => resolve(nothing)));
  };
  const db = {
    collection: (name: string) => ({
      findOne: () => find(name, null),
      find: () => ({ sort: () => ({ toArray: () => find(name, []) }) }),
    }),
  } as unknown as Db;
  const answer = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { db, finds, answer };
}

function readerOver(memory: InMemoryProducts, readBulkhead?: Bulkhead) {
  const { db, finds, answer } = recordingDb();
  const sources: ReadSource[] = [];
  const reader = new ViewReader(
    db,
    { serving: { current: 1, previous: null } },
    { versionTtlMs: 60_000, memory, onRead: (_, source) => sources.push(source), readBulkhead },
  );
  return { reader, finds, sources, answer };
}

const memoryAnswering = (answer: ProductDoc | null | undefined): InMemoryProducts => ({
  cachedProduct: () => answer,
  catalog: () => undefined,
});

test('a product memory knows not to exist is answered without MongoDB', async () => {
  const { reader, finds, sources } = readerOver(memoryAnswering(null));
  assert.equal(await reader.product('00000000-0000-4000-8000-000000000001'), null);
  assert.deepEqual(finds, []);
  assert.deepEqual(sources, ['memory']);
});

test('a product memory cannot vouch for is read from MongoDB', async () => {
  const { reader, finds, sources, answer } = readerOver(memoryAnswering(undefined));
  const read = reader.product('00000000-0000-4000-8000-000000000001');
  await Promise.resolve();
  answer();
  assert.equal(await read, null);
  assert.equal(finds.length, 1);
  assert.deepEqual(sources, ['mongodb']);
});

test('reads by id beyond the bulkhead are refused at once, not queued ahead of the projection', async () => {
  const { reader, finds, answer } = readerOver(memoryAnswering(undefined), new Bulkhead('reads by id', 1, 1));
  const first = reader.product('00000000-0000-4000-8000-000000000001');
  const queued = reader.priceHistory('00000000-0000-4000-8000-000000000002');
  await assert.rejects(reader.product('00000000-0000-4000-8000-000000000003'), BulkheadFull);
  assert.equal(finds.length, 1, 'one read in flight, one waiting');
  answer();
  assert.equal(await first, null);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(finds.length, 2, 'the waiting read runs once the first is done');
  answer();
  assert.deepEqual(await queued, []);
});

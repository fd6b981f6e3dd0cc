import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Db } from '../../../src/infra/mongo.ts';
import { type InMemoryProducts, type ReadSource, ViewReader } from '../../../src/projections/view-reader.ts';
import type { ProductDoc } from '../../../src/projections/views/products/view.ts';

/** A database every use of which is recorded, and which answers every find with nothing. */
function recordingDb() {
  const finds: string[] = [];
  const db = {
    collection: (name: string) => ({
      findOne: async () => {
        finds.push(name);
        return null;
      },
    }),
  } as unknown as Db;
  return { db, finds };
}

function readerOver(memory: InMemoryProducts) {
  const { db, finds } = recordingDb();
  const sources: ReadSource[] = [];
  const reader = new ViewReader(
    db,
    { serving: { current: 1, previous: null } },
    { versionTtlMs: 60_000, memory, onRead: (_, source) => sources.push(source) },
  );
  return { reader, finds, sources };
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
  const { reader, finds, sources } = readerOver(memoryAnswering(undefined));
  assert.equal(await reader.product('00000000-0000-4000-8000-000000000001'), null);
  assert.equal(finds.length, 1);
  assert.deepEqual(sources, ['mongodb']);
});

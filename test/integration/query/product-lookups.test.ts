import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CommandStartedEvent, MongoClient } from 'mongodb';
import { Bulkhead } from '../../../src/infra/bulkhead.ts';
import { viewCollectionNames } from '../../../src/projections/generations.ts';
import { ensureViewCollections, ViewStore } from '../../../src/projections/view-store.ts';
import { evolveProduct, type ProductDoc } from '../../../src/projections/views/products/view.ts';
import { mongoUrl, uniqueName } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';

// A partition whose products outgrow its actor's cache looks documents up by id for every chunk. On
// FerretDB v1 only a top-level equality reaches PostgreSQL; anything else decodes the whole
// collection, which at a large catalog outlasts the socket timeout on every attempt.
const mongo = new MongoClient(mongoUrl, { monitorCommands: true });
const database = uniqueName('q_lookups').replaceAll('-', '_');
const products = viewCollectionNames(1).products;
const commands: CommandStartedEvent[] = [];
mongo.on('commandStarted', (event) => {
  if (event.commandName === 'find' && event.command.find === products) commands.push(event);
});

let store: ViewStore;
let stored: ProductDoc[];

before(async () => {
  const views = await ensureViewCollections(mongo.db(database), 1);
  stored = Array.from({ length: 30 }, () => evolveProduct(null, new StreamBuilder().created(), 0, new Date()));
  await views.products.insertMany(stored);
  store = new ViewStore(views, new Bulkhead('test writes', 2));
});

after(async () => {
  await mongo.db(database).dropDatabase();
  await mongo.close();
});

test('product lookups by id are equality filters on _id, and find exactly the stored documents', async () => {
  const wanted = stored.slice(0, 12).map((doc) => doc._id);
  const missing = [new StreamBuilder().id, new StreamBuilder().id];
  commands.length = 0;

  const found = await store.loadProducts(0, [...wanted, ...missing]);

  assert.deepEqual(found.map((doc) => doc._id).sort(), [...wanted].sort());
  assert.equal(commands.length, wanted.length + missing.length, 'one find per id');
  for (const { command } of commands) {
    const filter = command.filter as Record<string, unknown>;
    assert.deepEqual(Object.keys(filter), ['_id']);
    assert.equal(typeof filter._id, 'string', `an equality, not ${JSON.stringify(filter._id)}`);
  }
});

test('no ids, no query', async () => {
  commands.length = 0;
  assert.deepEqual(await store.loadProducts(0, []), []);
  assert.equal(commands.length, 0);
});

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MongoServerError } from 'mongodb';
import { mongoClient, uniqueName } from '../../support/env.ts';

const client = mongoClient();
after(() => client.close());

test('FerretDB answers the mongodb driver: insert, range find with sort, upsert, unique index', async () => {
  const collection = client.db('stack_checks').collection<{ _id: string; sku: string; price: number }>(uniqueName('c'));
  try {
    await collection.insertMany([
      { _id: 'a', sku: 'A', price: 300 },
      { _id: 'b', sku: 'B', price: 100 },
      { _id: 'c', sku: 'C', price: 200 },
      { _id: 'd', sku: 'D', price: 900 },
    ]);
    const inRange = await collection
      .find({ price: { $gte: 100, $lte: 300 } })
      .sort({ price: -1 })
      .toArray();
    assert.deepEqual(
      inRange.map((d) => d._id),
      ['a', 'c', 'b'],
    );

    await collection.updateOne({ _id: 'e' }, { $set: { sku: 'E', price: 50 } }, { upsert: true });
    await collection.updateOne({ _id: 'a' }, { $set: { price: 301 } }, { upsert: true });
    assert.equal((await collection.findOne({ _id: 'e' }))?.price, 50);
    assert.equal((await collection.findOne({ _id: 'a' }))?.price, 301);

    await collection.createIndex({ sku: 1 }, { unique: true });
    await assert.rejects(
      collection.insertOne({ _id: 'z', sku: 'A', price: 1 }),
      (error: unknown) => error instanceof MongoServerError && error.code === 11000,
    );
    assert.equal(await collection.countDocuments(), 5);
  } finally {
    await collection.drop();
  }
});

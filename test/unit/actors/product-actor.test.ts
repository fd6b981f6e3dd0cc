import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ActorRegistry } from '../../../src/actors/actor-registry.ts';
import { slotOf } from '../../../src/actors/key-routing.ts';
import { loadProduct } from '../../../src/actors/load-product.ts';
import { type ActorContext, ProductActor } from '../../../src/actors/product-actor.ts';
import type { CommandTask } from '../../../src/actors/protocol.ts';
import type { ProductCommand } from '../../../src/domain/product/commands.ts';
import { InMemoryEventStore } from '../../../src/infra/event-store/in-memory.ts';
import { actorContext } from '../../support/actor-context.ts';

function setup(overrides: Partial<ActorContext> = {}) {
  const store = new InMemoryEventStore();
  return { store, ctx: actorContext(store, overrides) };
}

const task = (productId: string, command: ProductCommand, extra: Partial<CommandTask> = {}): CommandTask => ({
  productId,
  command,
  metadata: { commandId: randomUUID(), correlationId: 'test', causationId: 'test' },
  ...extra,
});

const create = (stock: number, sku = `SKU-${randomUUID()}`): ProductCommand => ({
  type: 'CreateProduct',
  data: { sku, name: 'Mug', price: { amount: 1299, currency: 'EUR' }, initialStock: stock },
});
const reserve = (quantity = 1): ProductCommand => ({
  type: 'ReserveStock',
  data: { quantity, reservationId: randomUUID() },
});

describe('product actor', () => {
  test('handles one product’s commands in order and writes those that waited in one commit', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    await actor.tell(task(id, create(30)));
    const callsBefore = store.appendCalls;
    const results = await Promise.all(Array.from({ length: 40 }, () => actor.tell(task(id, reserve()))));
    const ok = results.filter((r) => r.outcome.ok);
    assert.equal(ok.length, 30);
    assert.deepEqual(
      ok.map((r) => r.outcome.ok && r.outcome.version),
      Array.from({ length: 30 }, (_, i) => i + 2),
    );
    assert.ok(results.slice(30).every((r) => !r.outcome.ok && r.outcome.code === 'insufficient-stock'));
    assert.ok(store.appendCalls - callsBefore <= 2, `40 commands took ${store.appendCalls - callsBefore} commits`);
    assert.equal((await store.readStream(id)).filter((e) => e.type === 'StockReserved').length, 30);
  });

  test('reloads after another writer moved the stream, and decides again', async () => {
    const { ctx } = setup();
    const id = randomUUID();
    const stale = new ProductActor(id, ctx);
    await stale.tell(task(id, create(10)));
    const other = new ProductActor(id, ctx);
    assert.equal((await other.tell(task(id, reserve(4)))).outcome.ok, true);
    const result = await stale.tell(task(id, reserve(4)));
    assert.deepEqual(result.outcome, {
      ok: true,
      version: 3,
      stock: 2,
      reservationId: (result.outcome as { reservationId: string }).reservationId,
    });
    const third = await stale.tell(task(id, reserve(4)));
    assert.equal(!third.outcome.ok && third.outcome.code, 'insufficient-stock');
  });

  test('answers 409 version-conflict when conflicts outlast the retries', async () => {
    const { store, ctx } = setup({ conflictRetries: 0 });
    const id = randomUUID();
    const stale = new ProductActor(id, ctx);
    await stale.tell(task(id, create(10)));
    await new ProductActor(id, ctx).tell(task(id, reserve()));
    const result = await stale.tell(task(id, reserve()));
    assert.equal(!result.outcome.ok && result.outcome.code, 'version-conflict');
    assert.equal((await store.readStream(id)).length, 2);
  });

  test('a commit with an unknown outcome answers unavailable and the state is rebuilt from the store', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    await actor.tell(task(id, create(5)));
    store.failNextAppend = new Error('connection lost');
    const failed = await actor.tell(task(id, reserve()));
    assert.equal(!failed.outcome.ok && failed.outcome.code, 'unavailable');
    const next = await actor.tell(task(id, reserve()));
    assert.deepEqual(next.outcome.ok && [next.outcome.version, next.outcome.stock], [2, 4]);
  });

  test('If-Match on another version answers precondition-failed with the current version, writing nothing', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    await actor.tell(task(id, create(5)));
    const result = await actor.tell(task(id, reserve(), { expectedVersion: 7 }));
    assert.deepEqual(!result.outcome.ok && [result.outcome.code, result.outcome.currentVersion], [
      'precondition-failed',
      1,
    ]);
    assert.equal((await store.readStream(id)).length, 1);
  });

  test('a SKU held by another product answers sku-taken and the product stays empty', async () => {
    const { store, ctx } = setup();
    const [a, b] = [randomUUID(), randomUUID()];
    await new ProductActor(a, ctx).tell(task(a, create(1, 'SAME-SKU')));
    const result = await new ProductActor(b, ctx).tell(task(b, create(1, 'SAME-SKU')));
    assert.equal(!result.outcome.ok && result.outcome.code, 'sku-taken');
    assert.equal((await store.readStream(b)).length, 0);
  });

  test('stores the outcome with the Idempotency-Key, also for a rejection', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    const key = randomUUID();
    const result = await actor.tell(task(id, reserve(), { idempotency: { key, requestHash: 'h' } }));
    assert.equal(!result.outcome.ok && result.outcome.code, 'not-found');
    assert.deepEqual(store.idempotencyRecord(key)?.outcome, result.outcome);
  });

  test('takes a snapshot every N events and rebuilds from it', async () => {
    const { store, ctx } = setup({ snapshotEvery: 5 });
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    await actor.tell(task(id, create(100)));
    for (let i = 0; i < 6; i++) await actor.tell(task(id, reserve()));
    assert.equal((await store.readTail(id)).snapshot?.version, 5);
    const rebuilt = await loadProduct(store, id);
    assert.deepEqual([rebuilt.version, rebuilt.status !== 'empty' && rebuilt.stock], [7, 94]);
  });
});

describe('actor registry', () => {
  test('passivates the least recently used idle actor beyond the bound', async () => {
    const { ctx } = setup();
    const registry = new ActorRegistry(ctx, 2, 60_000);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const first = registry.get(a);
    registry.get(b);
    registry.get(a);
    registry.get(c);
    assert.equal(registry.size, 2);
    assert.equal(registry.get(a), first, 'the recently used actor stays');
    registry.close();
  });
});

describe('key routing', () => {
  test('sends a key to the same slot every time and spreads keys over the slots', () => {
    const keys = Array.from({ length: 4000 }, () => randomUUID());
    for (const key of keys.slice(0, 100)) assert.equal(slotOf(key, 4), slotOf(key, 4));
    const counts = [0, 0, 0, 0];
    for (const key of keys) counts[slotOf(key, 4)] = (counts[slotOf(key, 4)] ?? 0) + 1;
    assert.ok(
      counts.every((n) => n > 800 && n < 1200),
      `uneven spread: ${counts.join(', ')}`,
    );
  });
});

describe('product actor without a read before a create', () => {
  test('a create on an existing id is decided again after loading: already-exists, nothing written', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    await new ProductActor(id, ctx).tell(task(id, create(5)));
    const reads: string[] = [];
    const fresh = new ProductActor(id, {
      ...ctx,
      load: (productId) => {
        reads.push(productId);
        return ctx.load(productId);
      },
    });
    const result = await fresh.tell(task(id, create(9)));
    assert.equal(!result.outcome.ok && result.outcome.code, 'already-exists');
    assert.deepEqual(reads, [id], 'loaded once, after the append was refused');
    assert.equal((await store.readStream(id)).length, 1);
  });

  test('a new product is created without reading the store', async () => {
    const { ctx } = setup();
    const id = randomUUID();
    let reads = 0;
    const actor = new ProductActor(id, {
      ...ctx,
      load: (productId) => {
        reads += 1;
        return ctx.load(productId);
      },
    });
    const result = await actor.tell(task(id, create(5)));
    assert.deepEqual(result.outcome.ok && [result.outcome.version, result.appended], [1, true]);
    assert.equal(reads, 0);
  });

  test('a create whose commit has an unknown outcome is not trusted: the next command reads the store', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    store.failNextAppend = new Error('connection lost');
    const failed = await actor.tell(task(id, create(5)));
    assert.equal(!failed.outcome.ok && failed.outcome.code, 'unavailable');
    const next = await actor.tell(task(id, reserve()));
    assert.equal(!next.outcome.ok && next.outcome.code, 'not-found');
  });

  test('a replayed Idempotency-Key answers the stored record and appends nothing', async () => {
    const { store, ctx } = setup();
    const id = randomUUID();
    const key = randomUUID();
    const first = await new ProductActor(id, ctx).tell(task(id, create(5), { idempotency: { key, requestHash: 'h' } }));
    const other = randomUUID();
    const again = await new ProductActor(other, ctx).tell(
      task(other, create(5), { idempotency: { key, requestHash: 'h' } }),
    );
    assert.deepEqual(again.replay, { requestHash: 'h', aggregateId: id, outcome: first.outcome });
    assert.equal(again.appended, false);
    assert.equal((await store.readStream(other)).length, 0);
    assert.equal(store.eventCount, 1);
  });

  test('a full mailbox answers overloaded instead of queueing', async () => {
    const { ctx } = setup({ maxMailbox: 2 });
    const id = randomUUID();
    const actor = new ProductActor(id, ctx);
    await actor.tell(task(id, create(50)));
    const results = await Promise.all(Array.from({ length: 6 }, () => actor.tell(task(id, reserve()))));
    const codes = results.map((r) => (r.outcome.ok ? 'ok' : r.outcome.code));
    assert.ok(codes.includes('overloaded'), codes.join());
    assert.ok(codes.includes('ok'), codes.join());
  });
});

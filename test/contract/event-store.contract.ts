import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Envelope } from '../../src/domain/envelope.ts';
import type { AppendRequest } from '../../src/infra/event-store/append.ts';
import type { EventStore } from '../../src/infra/event-store/event-store.ts';
import { uuidv7 } from '../../src/infra/ids.ts';

/**
 * The event store contract, run against every implementation (in memory in test/unit, PostgreSQL
 * in test/integration) so the actor runtime's unit tests stand on the same semantics as production.
 */

const metadata = { commandId: randomUUID(), correlationId: 'contract', causationId: 'contract' };

function event(aggregateId: string, version: number, type = 'ProductRestocked'): Envelope {
  return {
    eventId: uuidv7(),
    type,
    aggregateId,
    version,
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
    data: { quantity: 1, stock: version },
    metadata,
  };
}

const req = (aggregateId: string, versions: number[], extra: Partial<AppendRequest> = {}): AppendRequest => ({
  aggregateId,
  events: versions.map((v) => event(aggregateId, v)),
  ...extra,
});

export function eventStoreContract(name: string, create: () => Promise<EventStore> | EventStore): void {
  describe(`${name} event store contract`, () => {
    test('appends a stream and reads it back in version order, after a given version', async () => {
      const store = await create();
      const id = randomUUID();
      assert.deepEqual(await store.appendBatch([req(id, [1, 2]), req(id, [3])]), ['ok', 'ok']);
      const all = await store.readStream(id);
      assert.deepEqual(
        all.map((e) => e.version),
        [1, 2, 3],
      );
      assert.ok(
        all.every((e, i) => i === 0 || e.position > (all[i - 1]?.position ?? 0)),
        'positions grow with versions',
      );
      assert.deepEqual(
        (await store.readStream(id, 2)).map((e) => e.version),
        [3],
      );
    });

    test('a version already taken fails that request alone and voids the later ones of its stream', async () => {
      const store = await create();
      const [a, b] = [randomUUID(), randomUUID()];
      await store.appendBatch([req(a, [1])]);
      const results = await store.appendBatch([req(a, [1]), req(b, [1]), req(a, [2])]);
      assert.deepEqual(results, ['version-conflict', 'ok', 'not-attempted']);
      assert.deepEqual(
        (await store.readStream(a)).map((e) => e.version),
        [1],
      );
      assert.deepEqual(
        (await store.readStream(b)).map((e) => e.version),
        [1],
      );
    });

    test('a SKU claimed by another product fails with sku-taken; by the same product, a version conflict', async () => {
      const store = await create();
      const [a, b] = [randomUUID(), randomUUID()];
      const sku = `SKU-${randomUUID()}`;
      assert.deepEqual(await store.appendBatch([req(a, [1], { skuClaim: sku })]), ['ok']);
      assert.deepEqual(await store.appendBatch([req(b, [1], { skuClaim: sku })]), ['sku-taken']);
      assert.deepEqual(await store.appendBatch([req(a, [1], { skuClaim: sku })]), ['version-conflict']);
      assert.equal((await store.readStream(b)).length, 0);
    });

    test('an idempotency key is stored once; a second use appends nothing and answers the stored record', async () => {
      const store = await create();
      const [a, b] = [randomUUID(), randomUUID()];
      const key = randomUUID();
      const outcome = { ok: true, version: 1, stock: 1 };
      assert.deepEqual(await store.appendBatch([req(a, [1], { idempotency: { key, requestHash: 'h1', outcome } })]), [
        'ok',
      ]);
      const second = { key, requestHash: 'h2', outcome: { ok: true, version: 9, stock: 9 } };
      assert.deepEqual(await store.appendBatch([req(b, [1], { idempotency: second, skuClaim: `SKU-${b}` })]), [
        { replay: { requestHash: 'h1', aggregateId: a, outcome } },
      ]);
      assert.equal((await store.readStream(b)).length, 0);
      const sku = `SKU-${b}`;
      assert.deepEqual(
        await store.appendBatch([req(randomUUID(), [1], { skuClaim: sku })]),
        ['ok'],
        'the replayed request claimed no SKU',
      );
    });

    test('a request with no events can still store its idempotency record', async () => {
      const store = await create();
      const id = randomUUID();
      const idempotency = {
        key: randomUUID(),
        requestHash: 'h',
        outcome: { ok: false, code: 'not-found', detail: 'x' },
      };
      assert.deepEqual(await store.appendBatch([{ aggregateId: id, events: [], idempotency }]), ['ok']);
      assert.deepEqual(await store.appendBatch([{ aggregateId: id, events: [], idempotency }]), [
        { replay: { requestHash: 'h', aggregateId: id, outcome: idempotency.outcome } },
      ]);
    });

    test('a snapshot is kept with the append and read back', async () => {
      const store = await create();
      const id = randomUUID();
      await store.appendBatch([req(id, [1, 2], { snapshot: { version: 2, state: { status: 'active', version: 2 } } })]);
      assert.deepEqual(await store.readTail(id), {
        snapshot: { version: 2, state: { status: 'active', version: 2 } },
        events: [],
      });
      assert.deepEqual(await store.readTail(randomUUID()), { events: [] });
    });
  });
}

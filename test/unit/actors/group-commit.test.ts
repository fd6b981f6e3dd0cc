import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { CommitterOverloaded, GroupCommitter } from '../../../src/actors/group-commit.ts';
import { ProductActor } from '../../../src/actors/product-actor.ts';
import type { AppendRequest } from '../../../src/infra/event-store/append.ts';
import { InMemoryEventStore } from '../../../src/infra/event-store/in-memory.ts';
import { actorContext, committerOptions, RolledBack } from '../../support/actor-context.ts';

const metadata = { commandId: 'c', correlationId: 'test', causationId: 'test' };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function request(aggregateId: string): AppendRequest {
  return {
    aggregateId,
    events: [
      {
        eventId: randomUUID(),
        type: 'ProductRestocked',
        aggregateId,
        version: 1,
        occurredAt: new Date().toISOString(),
        schemaVersion: 1,
        data: { quantity: 1, stock: 1 },
        metadata,
      },
    ],
  };
}

describe('group committer', () => {
  test('two batches in flight keep every product’s commands in order', async () => {
    const store = new InMemoryEventStore();
    let inFlight = 0;
    let mostInFlight = 0;
    const committer = new GroupCommitter(
      async (requests) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await pause(1 + Math.random() * 4);
        inFlight -= 1;
        return store.appendBatch(requests);
      },
      committerOptions({ concurrency: 2 }),
    );
    const ctx = actorContext(store, { committer });
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const actors = ids.map((id) => new ProductActor(id, ctx));
    const create = (id: string) => ({
      type: 'CreateProduct' as const,
      data: { sku: `SKU-${id}`, name: 'Mug', price: { amount: 100, currency: 'EUR' }, initialStock: 0 },
    });
    await Promise.all(
      actors.map((a, i) => a.tell({ productId: ids[i] as string, command: create(ids[i] as string), metadata })),
    );
    // Each product gets restocks 1..8 in this order, interleaved with the other products.
    const sent: Promise<unknown>[] = [];
    for (let quantity = 1; quantity <= 8; quantity++) {
      for (const [i, actor] of actors.entries()) {
        sent.push(
          actor.tell({ productId: ids[i] as string, command: { type: 'Restock', data: { quantity } }, metadata }),
        );
      }
      await pause(Math.random() * 3);
    }
    await Promise.all(sent);
    assert.equal(mostInFlight, 2, 'two transactions were in flight at once');
    for (const id of ids) {
      const events = await store.readStream(id);
      assert.deepEqual(
        events.map((e) => e.version),
        Array.from({ length: 9 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        events.slice(1).map((e) => (e.data as { quantity: number }).quantity),
        [1, 2, 3, 4, 5, 6, 7, 8],
        'restocks are stored in the order they were sent',
      );
    }
  });

  test('a batch the database rolled back is split until the culprit fails alone', async () => {
    const poisoned = randomUUID();
    const attempts: number[] = [];
    const committer = new GroupCommitter(
      async (requests) => {
        attempts.push(requests.length);
        if (requests.some((r) => r.aggregateId === poisoned)) throw new RolledBack('invalid byte sequence');
        return requests.map(() => 'ok' as const);
      },
      committerOptions({ concurrency: 1 }),
    );
    // The first submit occupies the only slot, so the next nine form one batch behind it.
    const first = committer.submit([request(randomUUID())]);
    const ids = Array.from({ length: 9 }, (_, i) => (i === 4 ? poisoned : randomUUID()));
    const outcomes = await Promise.allSettled(ids.map((id) => committer.submit([request(id)])));
    await first;
    assert.equal(attempts[1], 9, 'the nine were first tried as one batch');
    for (const [i, outcome] of outcomes.entries()) {
      if (ids[i] === poisoned) assert.equal(outcome.status, 'rejected');
      else assert.deepEqual(outcome.status === 'fulfilled' && outcome.value.results, ['ok']);
    }
  });

  test('a failure with an unknown outcome fails the whole batch, without retrying it', async () => {
    let calls = 0;
    const committer = new GroupCommitter(
      async () => {
        calls += 1;
        throw new Error('connection closed');
      },
      committerOptions({ concurrency: 1 }),
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => committer.submit([request(randomUUID())])));
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
    assert.equal(calls, 2, 'the first alone, then the other two together; none of them again');
  });

  test('sheds load once the queue is full, and takes work again after it drained', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const committer = new GroupCommitter(
      async (requests) => {
        await gate;
        return requests.map(() => 'ok' as const);
      },
      committerOptions({ concurrency: 1, maxQueued: 2 }),
    );
    const running = committer.submit([request(randomUUID())]);
    const queued = [committer.submit([request(randomUUID())]), committer.submit([request(randomUUID())])];
    await assert.rejects(committer.submit([request(randomUUID())]), CommitterOverloaded);
    release();
    await Promise.all([running, ...queued]);
    assert.deepEqual((await committer.submit([request(randomUUID())])).results, ['ok']);
  });
});

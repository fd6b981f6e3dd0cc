import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bulkhead, BulkheadFull } from '../../../src/infra/bulkhead.ts';

/** An operation that runs until the test lets it finish. */
function held<T>(value: T) {
  let finish!: () => void;
  const released = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let started = false;
  return {
    operation: async () => {
      started = true;
      await released;
      return value;
    },
    finish,
    get started() {
      return started;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('runs at most `limit` operations at once; the next waits for a free slot and starts in order', async () => {
  const bulkhead = new Bulkhead('test', 2, 10);
  const ops = [held(1), held(2), held(3), held(4)];
  const results = ops.map((op) => bulkhead.run(op.operation));
  await tick();
  assert.deepEqual(
    ops.map((op) => op.started),
    [true, true, false, false],
  );
  assert.equal(bulkhead.inFlight, 2);
  assert.equal(bulkhead.queued, 2);

  ops[1]?.finish();
  await tick();
  assert.deepEqual(
    ops.map((op) => op.started),
    [true, true, true, false],
  );
  for (const op of ops) op.finish();
  assert.deepEqual(await Promise.all(results), [1, 2, 3, 4]);
  assert.equal(bulkhead.inFlight, 0);
});

test('refuses at once beyond the queue bound, and a refusal takes no slot', async () => {
  const bulkhead = new Bulkhead('list queries', 1, 1);
  const running = held('a');
  const waiting = held('b');
  const first = bulkhead.run(running.operation);
  const second = bulkhead.run(waiting.operation);
  await assert.rejects(bulkhead.run(held('c').operation), (error: unknown) => {
    assert.ok(error instanceof BulkheadFull);
    assert.equal(error.bulkhead, 'list queries');
    return true;
  });
  running.finish();
  waiting.finish();
  assert.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  assert.equal(bulkhead.inFlight, 0);
  assert.equal(bulkhead.queued, 0);
});

test('a failed operation frees its slot for the next one', async () => {
  const bulkhead = new Bulkhead('test', 1, 1);
  const failing = bulkhead.run(async () => {
    throw new Error('boom');
  });
  const next = bulkhead.run(async () => 'next');
  await assert.rejects(failing, /boom/);
  assert.equal(await next, 'next');
  assert.equal(bulkhead.inFlight, 0);
});

test('waiting operations are served by lane in turn, in order within a lane', async () => {
  const bulkhead = new Bulkhead('mongodb writes', 1);
  const started: string[] = [];
  const blocker = held('blocker');
  const first = bulkhead.run(blocker.operation, 'p0');
  const queue = (lane: string, name: string) =>
    bulkhead.run(async () => {
      started.push(name);
    }, lane);
  // Partition 0 catches up on a backlog; partition 1 has one write, queued after all of them.
  const backlog = [queue('p0', 'p0-a'), queue('p0', 'p0-b'), queue('p0', 'p0-c')];
  const single = queue('p1', 'p1-a');
  assert.equal(bulkhead.queued, 4);
  blocker.finish();
  await Promise.all([first, ...backlog, single]);
  assert.deepEqual(started, ['p0-a', 'p1-a', 'p0-b', 'p0-c']);
  assert.equal(bulkhead.queued, 0);
  assert.equal(bulkhead.inFlight, 0);
});

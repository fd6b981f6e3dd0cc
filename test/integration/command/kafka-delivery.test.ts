import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import { eventTopic, sqlClient } from '../../support/env.ts';
import { assertContiguous, assertTopicMatchesStore, readTopicUntil, storedEvents } from '../../support/event-log.ts';
import { assertAcknowledgedStored, createProducts, WriteLoad } from '../../support/write-load.ts';

/**
 * The transactional outbox: every committed event reaches the event topic (the tests' own,
 * `eventTopic`), keyed by product id, in version order per key, checked by reading the topic from
 * the beginning with a fresh consumer group and comparing with the event store. Also when the
 * command service is SIGKILLed under load.
 */

const topic = eventTopic;
const sql = sqlClient();
let svc: CommandService;

before(async () => {
  svc = await startCommandService();
});
after(async () => {
  await stopAll();
  await sql.end({ timeout: 5 });
});

/** Whether the service's outbox relay holds the leader lock (its /metrics gauge). */
async function relayLeader(service: CommandService): Promise<boolean> {
  const res = await fetch(`${service.url}/metrics`);
  return /^outbox_relay_leader(?:\{[^}]*\})? 1$/m.test(await res.text());
}

test('every committed event reaches Kafka in version order per key under normal writes', async (t) => {
  const ids = await createProducts(svc, 10);
  const load = new WriteLoad(() => svc, ids, { concurrency: 8, maxRequests: 300 });
  await load.answers(300, 60_000);
  const result = await load.stop();
  assert.equal(result.acknowledged.length, 300, JSON.stringify([...result.statuses]));

  const stored = await storedEvents(sql, ids);
  assertContiguous(stored);
  assertAcknowledgedStored(stored, result);
  const started = Date.now();
  const records = await readTopicUntil(topic, stored);
  const { records: count, duplicates } = assertTopicMatchesStore(stored, records);
  t.diagnostic(
    `${count} records for ${ids.length} products, ${duplicates} duplicates, read in ${Date.now() - started} ms`,
  );
});

test('a command service killed with SIGKILL under load and restarted loses no acknowledged write and no event', async (t) => {
  const ids = await createProducts(svc, 10);
  let current = svc;
  const load = new WriteLoad(() => current, ids, { concurrency: 8, maxRequests: 5000 });
  const kills: string[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      await load.answers(150, 30_000);
      const { port, token } = current;
      const leader = await relayLeader(current);
      await current.kill('SIGKILL');
      kills.push(`killed pid ${current.pid} (relay leader: ${leader}) after ${load.requests} requests`);
      // Restarted on the same address with the same token: clients see refused connections until it is back.
      current = await startCommandService({ port, token });
    }
    await load.answers(150, 30_000);
  } finally {
    await load.stop();
  }
  const { result } = load;
  t.diagnostic(`${kills.join('; ')}; answers ${JSON.stringify([...result.statuses])}`);
  assert.ok(result.unanswered.length > 0, 'the kills cut requests off');
  const answered = [...result.statuses.keys()].filter((s) => s !== 'no answer');
  assert.deepEqual(answered.sort(), ['200', '201'], 'every answer is a success or no answer at all');

  // A client retries what got no answer, with the same Idempotency-Key: each is either replayed
  // (it had committed before the kill) or done now, and none is done twice.
  const retried = await load.retryUnanswered();
  const replayed = retried.filter((r) => r.reply.headers.get('idempotent-replayed') === 'true').length;
  for (const { sent, reply } of retried)
    assert.ok(reply.status === 200 || reply.status === 201, `${sent.key}: ${reply.text}`);
  t.diagnostic(`${retried.length} unanswered writes retried, ${replayed} of them had committed before the kill`);

  const stored = await storedEvents(sql, ids);
  assertContiguous(stored);
  assertAcknowledgedStored(stored, result);
  const keys = [...stored.values()].flatMap((events) =>
    events.slice(1).map((e) => e.metadata.idempotencyKey as string),
  );
  assert.equal(new Set(keys).size, keys.length, 'no write stored twice');
  assert.deepEqual(
    new Set(keys),
    new Set(result.acknowledged.map((a) => a.sent.key)),
    'the stored writes are exactly the acknowledged ones',
  );

  const records = await readTopicUntil(topic, stored);
  const { records: count, duplicates } = assertTopicMatchesStore(stored, records);
  t.diagnostic(`${keys.length} writes stored, ${count} records on Kafka, ${duplicates} duplicates`);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kafkaNode } from '../../../scripts/stack/kafka.ts';
import { kafkaNodes } from '../../../scripts/stack/paths.ts';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import {
  eventTopic,
  eventually,
  kafkaClient,
  restorePreferredLeaders,
  sqlClient,
  uniqueName,
} from '../../support/env.ts';
import { assertContiguous, assertTopicMatchesStore, readTopicUntil, storedEvents } from '../../support/event-log.ts';
import { assertAcknowledgedStored, createProducts, WriteLoad } from '../../support/write-load.ts';

/**
 * Kafka in trouble while the command service keeps writing: brokers restarted one at a time (the
 * partition leaders move under the relay's sends), then every broker stopped at once (writes still
 * succeed, the outbox holds the events). Either way every event arrives, in version order per key.
 * The brokers are started again in `after`, whatever happened.
 */

const topic = eventTopic;
const brokers = Array.from({ length: kafkaNodes }, (_, i) => kafkaNode(i + 1));
const sql = sqlClient();
let svc: CommandService;
let standby: CommandService;

async function startBrokers(): Promise<void> {
  await Promise.all(brokers.map((b) => b.start()));
  await Promise.all(
    brokers.map((b) => eventually(b.healthy, { timeoutMs: 180_000, intervalMs: 1000, what: `${b.name} healthy` })),
  );
}

before(async () => {
  svc = await startCommandService();
  // Started second, so it is the relay's standby while the first one leads.
  standby = await startCommandService();
});
after(async () => {
  try {
    await startBrokers();
    await restorePreferredLeaders();
  } finally {
    await stopAll();
    await sql.end({ timeout: 5 });
  }
});

async function outboxRows(ids: readonly string[]): Promise<number> {
  const [row] = await sql`select count(*)::int as n from outbox where aggregate_id = any(${ids as string[]}::uuid[])`;
  return row?.n as number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether the service's outbox relay holds the leader lock (its /metrics gauge, updated every second). */
async function relayLeader(service: CommandService): Promise<boolean> {
  const res = await fetch(`${service.url}/metrics`);
  return /^outbox_relay_leader(?:\{[^}]*\})? 1$/m.test(await res.text());
}

/** Until every partition of the topic has `nodeId` back in its ISR, so that stopping the next broker leaves two in sync. */
async function backInSync(nodeId: number): Promise<void> {
  const admin = kafkaClient(uniqueName('isr-check')).admin();
  await admin.connect();
  try {
    await eventually(
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        return (topics[0]?.partitions ?? []).every((p) => p.isr.includes(nodeId));
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: `broker ${nodeId} in the ISR of every partition of ${topic}` },
    );
  } finally {
    await admin.disconnect();
  }
}

test('with the brokers restarted one at a time during writes, no event is lost while partition leaders move', async (t) => {
  // Enough products for the relay's batches to span every partition, hence every broker.
  const ids = await createProducts(svc, 48);
  const load = new WriteLoad(() => svc, ids, { concurrency: 8, maxRequests: 20_000, pauseMs: 10 });
  const restarts: string[] = [];
  try {
    for (const [i, broker] of brokers.entries()) {
      await load.answers(150, 30_000);
      const started = Date.now();
      await broker.stop();
      await load.answers(150, 30_000);
      await broker.start();
      await eventually(broker.healthy, { timeoutMs: 180_000, intervalMs: 1000, what: `${broker.name} healthy` });
      await backInSync(i + 1);
      restarts.push(`${broker.name} ${Date.now() - started} ms`);
    }
    await load.answers(150, 30_000);
  } finally {
    await load.stop();
  }
  const { result } = load;
  assert.deepEqual([...result.statuses.keys()].sort(), ['200', '201'], JSON.stringify([...result.statuses]));

  const stored = await storedEvents(sql, ids);
  assertContiguous(stored);
  assertAcknowledgedStored(stored, result);
  const records = await readTopicUntil(topic, stored, { timeoutMs: 120_000 });
  const { records: count, duplicates } = assertTopicMatchesStore(stored, records);
  t.diagnostic(
    `${result.acknowledged.length} writes; restarts ${restarts.join(', ')}; ${count} records, ${duplicates} duplicates`,
  );
});

test('with every Kafka broker stopped during writes, writes still succeed and wait in the outbox; all arrive in order once Kafka is back', async (t) => {
  const ids = await createProducts(svc, 10);
  const timings: string[] = [];
  let mark = Date.now();
  const lap = (what: string) => {
    timings.push(`${what} ${Date.now() - mark} ms`);
    mark = Date.now();
  };
  const backlog: number[] = [];
  const sampleBacklog = async () => {
    await sleep(1000);
    backlog.push(await outboxRows(ids));
  };
  let current = svc;
  let shutdown = '';
  // 4 clients with a pause: about 100 writes a second for as long as the test needs, at most 10,000.
  const load = new WriteLoad(() => current, ids, { concurrency: 4, maxRequests: 10_000, pauseMs: 30 });
  try {
    await load.answers(100, 30_000);
    lap('writes with Kafka up');
    await Promise.all(brokers.map((b) => b.stop()));
    lap('brokers stopped during writes');
    for (const b of brokers) assert.equal(b.pid(), undefined, `${b.name} is stopped`);
    await sampleBacklog();
    await sampleBacklog();

    // The relay's leader is shut down while it cannot reach Kafka: it must still exit promptly, and
    // the standby takes over the writes and, once Kafka is back, the outbox.
    const leader = await relayLeader(svc);
    current = standby;
    const stopping = Date.now();
    await svc.kill('SIGTERM');
    const exit = await Promise.race([svc.exited, sleep(10_000).then(() => 'still running after 10 s')]);
    shutdown = `SIGTERM to the ${leader ? 'leader' : 'non-leader'} with Kafka down: exit ${exit} after ${Date.now() - stopping} ms`;
    assert.equal(exit, 0, `${shutdown}; the service's last output:\n${svc.output().slice(-4000)}`);
    await sampleBacklog();
    lap('writes with Kafka down');

    await startBrokers();
    lap('brokers healthy again');
    await load.answers(100, 30_000);
  } finally {
    await load.stop();
  }
  const { result } = load;
  assert.deepEqual(
    [...result.statuses.keys()].sort(),
    ['200', '201'],
    `every write answered 2xx: ${JSON.stringify([...result.statuses])}`,
  );
  assert.ok(backlog[0] !== undefined && backlog[0] > 0, 'the outbox holds events while Kafka is down');
  assert.ok(
    backlog.every((n, i) => i === 0 || n > (backlog[i - 1] as number)),
    `the outbox grows while Kafka is down: ${backlog.join(' -> ')}`,
  );

  const stored = await storedEvents(sql, ids);
  assertContiguous(stored);
  assertAcknowledgedStored(stored, result);
  const records = await readTopicUntil(topic, stored, { timeoutMs: 180_000 });
  lap('every event on Kafka');
  const { records: count, duplicates } = assertTopicMatchesStore(stored, records);
  await eventually(async () => (await outboxRows(ids)) === 0, { timeoutMs: 30_000, what: 'an empty outbox' });
  t.diagnostic(
    `${result.acknowledged.length} writes acknowledged; outbox ${backlog.join(' -> ')}; ${count} records, ${duplicates} duplicates; ${shutdown}; ${timings.join(', ')}`,
  );
});

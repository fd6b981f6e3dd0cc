import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setGroupOffsets } from '../../../src/infra/kafka.ts';
import { defaultPartitioner, eventually, kafkaClient, uniqueName } from '../../support/env.ts';

const kafka = kafkaClient('stack-kafka-test');
const admin = kafka.admin();
const topic = uniqueName('stack-check');
const expectedReplicas = Number(process.env.KAFKA_REPLICATION_FACTOR ?? 3);

before(async () => {
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 6, replicationFactor: expectedReplicas }],
  });
});
after(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

test('an idempotent acks=all producer and a consumer group move 1,000 keyed messages in order per key', async () => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: defaultPartitioner });
  await producer.connect();
  const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
  const messages = Array.from({ length: 1000 }, (_, i) => ({ key: keys[i % keys.length] as string, value: String(i) }));
  for (let i = 0; i < messages.length; i += 100) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 100) });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: uniqueName('stack-check-group') });
  // Values per key in delivery order, and each record's first delivery (partition:offset).
  const seen = new Map<string, number[]>();
  const delivered = new Set<string>();
  let deliveries = 0;
  let joins = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joins += 1;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      deliveries += 1;
      if (delivered.has(`${partition}:${message.offset}`)) return;
      delivered.add(`${partition}:${message.offset}`);
      const key = message.key?.toString() ?? '';
      seen.set(key, [...(seen.get(key) ?? []), Number(message.value?.toString())]);
    },
  });
  try {
    await eventually(async () => delivered.size >= 1000, { timeoutMs: 60_000, what: '1,000 messages consumed' });
  } finally {
    await consumer.disconnect();
  }
  assert.equal(delivered.size, 1000);
  // A consumer group delivers at least once: a rebalance (a coordinator moved by an earlier test's
  // broker restarts) replays from the last commit. Without one, nothing may come twice.
  if (joins === 1) assert.equal(deliveries, 1000, 'deliveries without a rebalance');
  for (const key of keys) {
    const values = seen.get(key) ?? [];
    assert.equal(values.length, 50, `messages of ${key}`);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      `order of ${key}`,
    );
  }
});

test(`topic metadata shows ${expectedReplicas} replicas and ${expectedReplicas} in-sync replicas per partition`, async () => {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = topics[0]?.partitions ?? [];
  assert.equal(partitions.length, 6);
  for (const partition of partitions) {
    assert.equal(partition.replicas.length, expectedReplicas);
    assert.equal(partition.isr.length, expectedReplicas);
  }
});

test('setGroupOffsets commits each partition offset of an empty group, and refuses a group with a member', async () => {
  const producer = kafka.producer({ createPartitioner: defaultPartitioner });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: 60 }, (_, i) => ({ key: `offsets-${i}`, value: String(i) })),
  });
  await producer.disconnect();
  const ends = await admin.fetchTopicOffsets(topic);
  const wanted = ends.map(({ partition, high }) => ({ partition, offset: String(Math.floor(Number(high) / 2)) }));
  const groupId = uniqueName('set-offsets');
  await setGroupOffsets(kafka, { groupId, topic, partitions: wanted });
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
  for (const { partition, offset } of wanted)
    assert.equal(byPartition.get(partition), offset, `partition ${partition}`);

  const member = kafka.consumer({ groupId });
  await member.connect();
  await member.subscribe({ topic });
  await member.run({ eachMessage: async () => {} });
  try {
    await eventually(async () => (await admin.describeGroups([groupId])).groups[0]?.state === 'Stable', {
      timeoutMs: 30_000,
      what: 'the member joined',
    });
    await assert.rejects(setGroupOffsets(kafka, { groupId, topic, partitions: wanted }), /running members/);
  } finally {
    await member.disconnect();
    await admin.deleteGroups([groupId]).catch(() => {});
  }
});

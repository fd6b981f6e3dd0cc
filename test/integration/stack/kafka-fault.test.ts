import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kafkaNode } from '../../../scripts/stack/kafka.ts';
import { kafkaNodes } from '../../../scripts/stack/paths.ts';
import { defaultPartitioner, eventually, kafkaClient, uniqueName } from '../../support/env.ts';

const skip = kafkaNodes < 3 ? 'needs the three-broker stack (KAFKA_NODES=3)' : false;
const kafka = kafkaClient('stack-fault-test');
const admin = kafka.admin();
const topic = uniqueName('stack-fault');
const broker = kafkaNode(2);

before(async () => {
  if (skip) return;
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
    ],
  });
});
after(async () => {
  if (skip) return;
  await broker.start();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

test('with one broker of three stopped, acks=all produce and consume still work; it rejoins the ISR', {
  skip,
}, async () => {
  await broker.stop();
  assert.equal(broker.pid(), undefined, 'broker 2 is stopped');

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: defaultPartitioner });
  await producer.connect();
  const messages = Array.from({ length: 300 }, (_, i) => ({ key: `k-${i % 10}`, value: String(i) }));
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: uniqueName('fault-group') });
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async () => {
      count += 1;
    },
  });
  try {
    await eventually(async () => count >= messages.length, {
      timeoutMs: 60_000,
      what: 'messages consumed with a broker down',
    });
  } finally {
    await consumer.disconnect();
  }
  assert.equal(count, messages.length);

  await broker.start();
  await eventually(broker.healthy, { timeoutMs: 120_000, what: 'broker 2 back' });
  const isr = await eventually(
    async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      return partitions.every((p) => p.isr.includes(2)) ? partitions : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1000, what: 'broker 2 in the ISR of every partition' },
  );
  assert.ok(isr.every((p) => p.isr.length === 3));
});

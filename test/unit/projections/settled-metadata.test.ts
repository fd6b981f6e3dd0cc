import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import kafkajs, { type Admin } from 'kafkajs';
import { ensureTopics, settledMetadata } from '../../../src/projections/topics.ts';

const { KafkaJSProtocolError } = kafkajs;

const unknownTopic = () =>
  new KafkaJSProtocolError({
    message: 'This server does not host this topic-partition',
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
    code: 3,
    retriable: true,
  } as unknown as Error);

const metadata = { topics: [{ name: 'events', partitions: [] }] };

test('a topic the brokers do not know yet is asked for again until they do', async () => {
  let calls = 0;
  const admin = {
    fetchTopicMetadata: async () => {
      calls += 1;
      if (calls < 3) throw unknownTopic();
      return metadata;
    },
  };
  assert.deepEqual(await settledMetadata(admin, ['events']), metadata);
  assert.equal(calls, 3);
});

test('an error that is not retriable fails at once', async () => {
  let calls = 0;
  const admin = {
    fetchTopicMetadata: async () => {
      calls += 1;
      throw new KafkaJSProtocolError({
        message: 'Not authorized',
        type: 'TOPIC_AUTHORIZATION_FAILED',
        code: 29,
        retriable: false,
      } as unknown as Error);
    },
  };
  await assert.rejects(settledMetadata(admin, ['events']), /Not authorized/);
  assert.equal(calls, 1);
});

describe('ensureTopics creating the topics', () => {
  const options = { topic: 'events', deadLetterTopic: 'events.dlq', partitions: 3, replicationFactor: 1 };
  const silent = { info: () => {}, warn: () => {} };
  const threePartitions = [{ replicas: [1] }, { replicas: [1] }, { replicas: [1] }];

  /**
   * A cluster whose createTopics answers each call as `answers` says: `created-then-unknown` creates
   * the topics and then fails kafkajs's wait for their leaders; `refused-retriable` creates nothing.
   */
  const cluster = (answers: ('created-then-unknown' | 'refused-retriable' | 'refused')[]) => {
    const topics = new Set<string>();
    const asked: string[][] = [];
    const admin = {
      listTopics: async () => [...topics],
      createTopics: async ({ topics: wanted }: { topics: { topic: string }[] }) => {
        asked.push(wanted.map((t) => t.topic));
        const answer = answers[asked.length - 1];
        if (answer === 'refused') {
          throw new KafkaJSProtocolError({ message: 'Not authorized', type: 'x', code: 29, retriable: false } as never);
        }
        if (answer === 'refused-retriable') throw unknownTopic();
        for (const t of wanted) topics.add(t.topic);
        if (answer === 'created-then-unknown') throw unknownTopic();
        return true;
      },
      fetchTopicMetadata: async () => ({
        topics: [...topics].map((name) => ({ name, partitions: threePartitions })),
      }),
    };
    return { admin: admin as unknown as Admin, asked };
  };

  test('a wait for leaders that meets a broker not yet aware of the new topics is not fatal', async () => {
    const { admin, asked } = cluster(['created-then-unknown']);
    assert.equal(await ensureTopics(admin, options, silent), 3);
    // Created once: the retry finds both topics there and leaves the wait to settledMetadata.
    assert.deepEqual(asked, [['events', 'events.dlq']]);
  });

  test('a retriable refusal is retried until the topics are created', async () => {
    const { admin, asked } = cluster(['refused-retriable', 'refused-retriable']);
    assert.equal(await ensureTopics(admin, options, silent), 3);
    assert.equal(asked.length, 3);
  });

  test('a refusal that is not retriable fails at once', async () => {
    const { admin, asked } = cluster(['refused']);
    await assert.rejects(ensureTopics(admin, options, silent), /Not authorized/);
    assert.equal(asked.length, 1);
  });
});

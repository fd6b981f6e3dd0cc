import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { settledMetadata } from '../../../src/projections/topics.ts';

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

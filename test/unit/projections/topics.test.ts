import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  configDrift,
  DEAD_LETTER_RETENTION_MS,
  eventTopicConfig,
  formatTopicConfig,
  minInsyncReplicasFor,
  parseTopicConfig,
  topicSpecs,
} from '../../../src/projections/topics.ts';

describe('the topic definition', () => {
  test('the event topic keeps its events forever, the dead-letter topic has as many partitions', () => {
    const [events, deadLetters] = topicSpecs({
      topic: 'product-events',
      deadLetterTopic: 'product-events.dlq',
      partitions: 12,
      replicationFactor: 3,
    });
    assert.deepEqual(events, {
      topic: 'product-events',
      partitions: 12,
      replicationFactor: 3,
      config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1', 'min.insync.replicas': '2' },
    });
    assert.equal(deadLetters.topic, 'product-events.dlq');
    assert.equal(deadLetters.partitions, 12);
    assert.equal(deadLetters.replicationFactor, 3);
    assert.equal(deadLetters.config['retention.ms'], String(DEAD_LETTER_RETENTION_MS));
    assert.equal(DEAD_LETTER_RETENTION_MS, 2_592_000_000);
  });

  test('min.insync.replicas is 2 with 3 replicas, so one broker may be down; never above the replicas', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(minInsyncReplicasFor), [1, 1, 2, 2, 2]);
    assert.equal(eventTopicConfig(1)['min.insync.replicas'], '1');
  });

  test('name=value lists, as kafka-configs.sh --add-config and the Job take them, round-trip', () => {
    const config = eventTopicConfig(3);
    assert.equal(
      formatTopicConfig(config),
      'cleanup.policy=delete,retention.ms=-1,retention.bytes=-1,min.insync.replicas=2',
    );
    assert.deepEqual(parseTopicConfig(formatTopicConfig(config)), config);
    assert.deepEqual(parseTopicConfig(' a=1 , b=x=y ,'), { a: '1', b: 'x=y' });
    assert.throws(() => parseTopicConfig('retention.ms'), /not name=value/);
  });

  test('a topic created with the broker default of 7 days is altered; its other settings are kept', () => {
    const drift = configDrift(
      [
        { name: 'retention.ms', value: '604800000', topicLevel: false },
        { name: 'retention.bytes', value: '-1', topicLevel: false },
        { name: 'cleanup.policy', value: 'delete', topicLevel: false },
        { name: 'min.insync.replicas', value: '2', topicLevel: false },
        { name: 'segment.bytes', value: '10485760', topicLevel: true },
        { name: 'max.message.bytes', value: '1048588', topicLevel: false },
      ],
      eventTopicConfig(3),
    );
    assert.deepEqual(drift.changes, { 'retention.ms': ['604800000', '-1'] });
    assert.deepEqual(
      Object.fromEntries(drift.entries.map((e) => [e.name, e.value])),
      { 'segment.bytes': '10485760', ...eventTopicConfig(3) },
      'AlterConfigs replaces the topic-level set: the existing topic-level entry is sent again, defaults are not',
    );
  });

  test('a topic that matches needs no change; compaction or a size limit is a change', () => {
    const wanted = eventTopicConfig(3);
    const matching = Object.entries(wanted).map(([name, value]) => ({ name, value, topicLevel: true }));
    assert.deepEqual(configDrift(matching, wanted).changes, {});
    const compacted = matching.map((e) => (e.name === 'cleanup.policy' ? { ...e, value: 'compact' } : e));
    assert.deepEqual(configDrift(compacted, wanted).changes, { 'cleanup.policy': ['compact', 'delete'] });
    const missing = matching.filter((e) => e.name !== 'retention.bytes');
    assert.deepEqual(configDrift(missing, wanted).changes, { 'retention.bytes': [null, '-1'] });
  });
});

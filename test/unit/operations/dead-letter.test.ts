import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KafkaMessage, ProducerRecord } from 'kafkajs';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';
import { DEAD_LETTER_HEADERS } from '../../../src/projections/dead-letters.ts';
import { createProjectionMetrics } from '../../../src/projections/metrics.ts';
import {
  type DeadLetter,
  REDRIVE_HEADERS,
  readDeadLetter,
  redriveMessage,
  SHOWN_VALUE_CHARS,
} from '../../../src/projections/operations/dead-letter.ts';
import {
  DeadLetterNotFoundError,
  DeadLettersNotReadError,
  type HeldDeadLetters,
  Redriver,
} from '../../../src/projections/operations/redrive.ts';

const letterMessage = (offset: number, value: string, reason = 'key-mismatch', key = 'wrong-key'): KafkaMessage =>
  ({
    offset: String(offset),
    key: Buffer.from(key),
    value: Buffer.from(value),
    timestamp: '0',
    attributes: 0,
    headers: {
      'event-type': Buffer.from('ProductCreated'),
      [DEAD_LETTER_HEADERS.reason]: Buffer.from(reason),
      [DEAD_LETTER_HEADERS.detail]: Buffer.from('record key wrong-key is not the aggregate id'),
      [DEAD_LETTER_HEADERS.sourceTopic]: Buffer.from('product-events'),
      [DEAD_LETTER_HEADERS.sourcePartition]: Buffer.from('4'),
      [DEAD_LETTER_HEADERS.sourceOffset]: Buffer.from(String(100 + offset)),
      [DEAD_LETTER_HEADERS.consumerGroup]: Buffer.from('catalog-projections.g1'),
      [DEAD_LETTER_HEADERS.failedAt]: Buffer.from(`2026-01-01T00:00:0${offset}.000Z`),
    },
  }) as KafkaMessage;

const envelope = (aggregateId: string) =>
  JSON.stringify({ aggregateId, version: 2, type: 'ProductCreated', data: { name: '<script>x</script>' } });

describe('dead letters', () => {
  test('a dead letter is read with its reason, its source and what its value names', () => {
    const { view } = readDeadLetter(1, letterMessage(7, envelope('a1')));
    assert.deepEqual(
      { ...view, value: undefined },
      {
        partition: 1,
        offset: 7,
        reason: 'key-mismatch',
        detail: 'record key wrong-key is not the aggregate id',
        sourceTopic: 'product-events',
        sourcePartition: 4,
        sourceOffset: 107,
        consumerGroup: 'catalog-projections.g1',
        failedAt: '2026-01-01T00:00:07.000Z',
        key: 'wrong-key',
        eventType: 'ProductCreated',
        aggregateId: 'a1',
        version: 2,
        value: undefined,
        valueTruncated: false,
        redrivenAt: null,
      },
    );
    const unparseable = readDeadLetter(0, letterMessage(1, '{"not json', 'unparseable')).view;
    assert.deepEqual([unparseable.aggregateId, unparseable.version, unparseable.value], [null, null, '{"not json']);
    const long = readDeadLetter(0, letterMessage(2, 'x'.repeat(SHOWN_VALUE_CHARS + 1))).view;
    assert.equal(long.value.length, SHOWN_VALUE_CHARS);
    assert.equal(long.valueTruncated, true);
  });

  test("a re-drive publishes the value byte for byte, keyed by the event's product, without the dead-letter headers", () => {
    const letter = readDeadLetter(1, letterMessage(7, envelope('a1')));
    const message = redriveMessage(letter, new Date('2026-02-01T00:00:00Z'));
    assert.equal(message.key, 'a1');
    assert.equal(message.value, letter.message.value);
    const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
    assert.deepEqual(headers, {
      'event-type': 'ProductCreated',
      [REDRIVE_HEADERS.fromPartition]: '1',
      [REDRIVE_HEADERS.fromOffset]: '7',
      [REDRIVE_HEADERS.at]: '2026-02-01T00:00:00.000Z',
    });
    const unparseable = readDeadLetter(0, letterMessage(1, 'nope', 'unparseable', 'k'));
    assert.equal(String(redriveMessage(unparseable, new Date()).key), 'k', 'no product id: the original key');
  });
});

class HeldLetters implements HeldDeadLetters {
  ready = true;
  readonly perPartition = 50;
  started = 0;
  constructor(private readonly held: DeadLetter[]) {}
  ensureStarted() {
    this.started += 1;
  }
  find(partition: number, offset: number) {
    return this.held.find((l) => l.view.partition === partition && l.view.offset === offset);
  }
  letters() {
    return [...this.held].sort((a, b) => b.view.offset - a.view.offset);
  }
  markRedriven(letter: DeadLetter, at: Date) {
    letter.view.redrivenAt = at.toISOString();
  }
}

function redriverWith(held: HeldLetters) {
  const sent: ProducerRecord[] = [];
  const registry = createRegistry('test');
  const metrics = createProjectionMetrics(registry);
  const redriver = new Redriver({
    publish: async (record) => {
      sent.push(record);
    },
    topic: 'product-events',
    tail: held,
    redrives: metrics.redrives,
    logger: createLogger('test', 'silent'),
  });
  return { redriver, sent, registry };
}

describe('re-drive', () => {
  test('one dead letter by its place in the dead-letter topic, marked and counted', async () => {
    const held = new HeldLetters([readDeadLetter(0, letterMessage(3, envelope('a1')))]);
    const { redriver, sent, registry } = redriverWith(held);
    const outcome = await redriver.one(0, 3);
    assert.deepEqual(outcome, [
      { partition: 0, offset: 3, reason: 'key-mismatch', key: 'wrong-key', aggregateId: 'a1', version: 2 },
    ]);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.topic, 'product-events');
    assert.notEqual(held.find(0, 3)?.view.redrivenAt, null);
    assert.match(await registry.metrics(), /projection_dead_letter_redrives_total\{reason="key-mismatch"[^}]*\} 1/);
    await assert.rejects(redriver.one(0, 4), DeadLetterNotFoundError);
  });

  test('all of one reason: oldest first, each distinct record once, in one send', async () => {
    const held = new HeldLetters([
      readDeadLetter(0, letterMessage(1, envelope('a1'))),
      readDeadLetter(0, letterMessage(2, envelope('a2'))),
      readDeadLetter(1, letterMessage(3, envelope('a1'))),
      readDeadLetter(1, letterMessage(4, 'garbage', 'unparseable')),
    ]);
    const { redriver, sent } = redriverWith(held);
    const outcome = await redriver.byReason('key-mismatch');
    assert.deepEqual(
      outcome.map((o) => [o.partition, o.offset]),
      [
        [0, 1],
        [0, 2],
      ],
    );
    assert.equal(sent.length, 1);
    assert.deepEqual(
      sent[0]?.messages.map((m) => String(m.key)),
      ['a1', 'a2'],
    );
    assert.deepEqual(await redriver.byReason('unknown-type'), []);
    assert.equal(sent.length, 1, 'nothing to send, nothing sent');
  });

  test('nothing is re-driven before the dead-letter topic has been read', async () => {
    const held = new HeldLetters([]);
    held.ready = false;
    const { redriver } = redriverWith(held);
    await assert.rejects(redriver.byReason('key-mismatch'), DeadLettersNotReadError);
    assert.equal(held.started, 1, 'asking starts the reader');
  });
});

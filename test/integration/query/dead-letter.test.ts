import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Consumer } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '../../../src/projections/dead-letters.ts';
import { eventually, uniqueName } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { recordOf } from './support/events.ts';
import { getJson, type QueryService, startQueryService } from './support/service.ts';

const bed = new QueryBed('dlq', 1);
const { topic, deadLetterTopic, kafka } = bed;
let consumer: Consumer;
let service: QueryService;
const readerGroup = uniqueName('q-dlq-reader');

interface Letter {
  key: string;
  value: string;
  headers: Record<string, string>;
}
const letters: Letter[] = [];

before(async () => {
  await bed.open();
  consumer = kafka.consumer({ groupId: readerGroup });
  await consumer.connect();
  await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      letters.push({
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  service = await startQueryService(bed.service);
});

after(async () => {
  await service?.stop();
  await consumer?.disconnect();
  await bed.close([readerGroup]);
});

test('poison records go to the dead-letter topic with reason and source, and later events keep flowing', async () => {
  const stream = new StreamBuilder();
  const created = stream.created({ stock: 5 });
  const badData = { ...stream.restocked(1), data: { quantity: -3, stock: 2 } };
  // The poison event is never applied: the stream goes on from version 1 and stock 5.
  stream.version -= 1;
  stream.stock -= 1;
  const restocked = stream.restocked(2);
  await bed.publish([created]);
  await bed.producer.send({
    topic,
    acks: -1,
    messages: [
      { key: stream.id, value: '{"this is": not json' },
      recordOf({ ...created, eventId: new StreamBuilder().id, type: 'ProductTeleported' } as never),
      { ...recordOf(badData as never) },
    ],
  });
  await bed.publish([restocked]);

  const view = await getJson<{ version: number; stock: number }>(
    `${service.url}/products/${stream.id}?minVersion=2&maxWaitMs=10000`,
  );
  assert.equal(view.status, 200);
  assert.equal(view.body.stock, 7);

  await eventually(async () => letters.length >= 3, { timeoutMs: 30_000, what: 'three dead letters' });
  assert.deepEqual(
    letters.map((l) => l.headers[DEAD_LETTER_HEADERS.reason]),
    ['unparseable', 'unknown-type', 'schema-violation'],
  );
  assert.deepEqual(
    letters.map((l) => l.headers[DEAD_LETTER_HEADERS.sourceOffset]),
    ['1', '2', '3'],
  );
  for (const letter of letters) {
    assert.equal(letter.key, stream.id);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.sourceTopic], topic);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.sourcePartition], '0');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.consumerGroup], `${topic}.g1`);
  }
  assert.equal(letters[0]?.value, '{"this is": not json');
  assert.equal(letters[1]?.headers['event-type'], 'ProductTeleported');

  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /projection_dead_letters_total\{[^}]*reason="unparseable"[^}]*\} 1/);
  const lag = await getJson<{ totalLag: number }>(`${service.url}/projections`);
  assert.equal(lag.body.totalLag, 0);
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AckedWrite,
  checkTopic,
  findDuplicateKeys,
  findLost,
  findStreamGaps,
  type StoredEvent,
  type TopicRecord,
} from '../../../scripts/chaos/checks.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

const ev = (aggregateId: string, version: number, type: string, key?: string): StoredEvent => ({
  aggregateId,
  version,
  type,
  eventId: `${aggregateId.slice(0, 1)}-e${version}`,
  idempotencyKey: key,
});

/** Product A: created by k1, then a price change (k2) and a restock (k3). Product B: created by k4. */
const store = (): Map<string, StoredEvent[]> =>
  new Map([
    [A, [ev(A, 1, 'ProductCreated', 'k1'), ev(A, 2, 'ProductPriceChanged', 'k2'), ev(A, 3, 'ProductRestocked', 'k3')]],
    [B, [ev(B, 1, 'ProductCreated', 'k4')]],
  ]);

const acked: AckedWrite[] = [
  { key: 'k1', productId: A, kind: 'create', version: 1 },
  { key: 'k2', productId: A, kind: 'price', version: 2 },
  { key: 'k3', productId: A, kind: 'restock', version: 3 },
  { key: 'k4', productId: B, kind: 'create', version: 1 },
];

describe('findLost', () => {
  test('every acknowledged write is found: nothing lost', () => {
    assert.deepEqual(findLost(store(), acked), []);
  });

  test('an acknowledged write whose key no event carries is lost', () => {
    const lost = findLost(store(), [...acked, { key: 'k9', productId: A, kind: 'reserve', version: 4 }]);
    assert.equal(lost.length, 1);
    assert.equal(lost[0]?.key, 'k9');
    assert.match(lost[0]?.reason ?? '', /no event/);
  });

  test('an event at another version than the answer gave is a mismatch', () => {
    const lost = findLost(store(), [{ key: 'k3', productId: A, kind: 'restock', version: 4 }]);
    assert.match(lost[0]?.reason ?? '', /answered version 4, stored at 3/);
  });

  test('an event on another product, or of another type, is a mismatch', () => {
    assert.match(
      findLost(store(), [{ key: 'k4', productId: A, kind: 'create', version: 1 }])[0]?.reason ?? '',
      /on product/,
    );
    assert.match(
      findLost(store(), [{ key: 'k3', productId: A, kind: 'reserve', version: 3 }])[0]?.reason ?? '',
      /stored as ProductRestocked/,
    );
  });
});

describe('findDuplicateKeys and findStreamGaps', () => {
  test('a key carried by two events is reported once', () => {
    const s = store();
    s.get(B)?.push(ev(B, 2, 'ProductCreated', 'k4'));
    assert.deepEqual(findDuplicateKeys(s), ['k4']);
    assert.deepEqual(findDuplicateKeys(store()), []);
  });

  test('a stream that is not 1..n is reported', () => {
    assert.deepEqual(findStreamGaps(store()), []);
    const s = new Map([[A, [ev(A, 1, 'ProductCreated'), ev(A, 3, 'ProductRestocked')]]]);
    assert.equal(findStreamGaps(s).length, 1);
  });
});

const rec = (key: string, version: number, offset: number, partition = 0, eventId?: string): TopicRecord => ({
  key,
  partition,
  offset: String(offset),
  version,
  eventId: eventId ?? `${key.slice(0, 1)}-e${version}`,
});

const topicOf = (records: TopicRecord[]): Map<string, TopicRecord[]> => {
  const map = new Map<string, TopicRecord[]>();
  for (const r of records) map.set(r.key, [...(map.get(r.key) ?? []), r]);
  return map;
};

describe('checkTopic', () => {
  test('every event once, in order: clean', () => {
    const result = checkTopic(store(), topicOf([rec(A, 1, 0), rec(B, 1, 1, 3), rec(A, 2, 2), rec(A, 3, 3)]));
    assert.deepEqual(result, { records: 4, duplicates: 0, missing: 0, problems: [] });
  });

  test('duplicates (a relay republishing) are counted, not a problem', () => {
    const result = checkTopic(
      store(),
      topicOf([rec(A, 1, 0), rec(A, 2, 1), rec(A, 1, 2), rec(A, 2, 3), rec(A, 3, 4), rec(B, 1, 5, 3)]),
    );
    assert.equal(result.duplicates, 2);
    assert.deepEqual(result.problems, []);
    assert.equal(result.missing, 0);
  });

  test('a reordering is a problem', () => {
    const result = checkTopic(store(), topicOf([rec(A, 1, 0), rec(A, 3, 1), rec(A, 2, 2), rec(B, 1, 3, 3)]));
    assert.equal(result.problems.length, 2);
    assert.match(result.problems[0] ?? '', /version 3 arrived after 1/);
    assert.equal(result.missing, 0);
  });

  test('a gap (an event that never arrives) is a problem and counted missing', () => {
    const result = checkTopic(store(), topicOf([rec(A, 1, 0), rec(A, 3, 1), rec(B, 1, 3, 3)]));
    assert.equal(result.missing, 1);
    assert.equal(result.problems.length, 1);
  });

  test('events missing at the end, and a product absent from the topic, are missing', () => {
    const result = checkTopic(store(), topicOf([rec(A, 1, 0)]));
    assert.equal(result.missing, 3);
    assert.deepEqual(result.problems, []);
  });

  test('a product split over partitions, a version the store lacks, or another event id are problems', () => {
    assert.match(
      checkTopic(store(), topicOf([rec(A, 1, 0), rec(A, 2, 1, 5), rec(A, 3, 2), rec(B, 1, 0, 3)])).problems[0] ?? '',
      /partitions/,
    );
    assert.match(
      checkTopic(store(), topicOf([rec(A, 1, 0), rec(A, 2, 1), rec(A, 3, 2), rec(A, 4, 3), rec(B, 1, 0, 3)]))
        .problems[0] ?? '',
      /version 4, which the event store does not/,
    );
    assert.match(
      checkTopic(store(), topicOf([rec(A, 1, 0), rec(A, 2, 1, 0, 'other'), rec(A, 3, 2), rec(B, 1, 0, 3)]))
        .problems[0] ?? '',
      /event other on the topic/,
    );
  });
});

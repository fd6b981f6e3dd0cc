import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeRecord } from '../../../src/projections/record.ts';
import { kafkaMessage, StreamBuilder } from './stream-builder.ts';

const reasonOf = (message: ReturnType<typeof kafkaMessage>) => {
  const decoded = decodeRecord(message);
  return decoded.kind === 'poison' ? decoded.reason : 'event';
};

describe('decoding a record', () => {
  test('a well-formed envelope keyed by its aggregate id is an event', () => {
    const stream = new StreamBuilder();
    const created = stream.created();
    const decoded = decodeRecord(kafkaMessage(created, 7));
    assert.equal(decoded.kind, 'event');
    assert.equal(decoded.offset, 7);
    if (decoded.kind === 'event') assert.deepEqual(decoded.envelope, created);
  });

  test('unparseable JSON, a broken envelope, an unknown type, a newer schema and bad data are each poison', () => {
    const stream = new StreamBuilder();
    const created = stream.created();
    assert.equal(reasonOf(kafkaMessage('{not json', 0, stream.id)), 'unparseable');
    assert.equal(reasonOf(kafkaMessage({ ...created, aggregateId: 'nope' }, 0, 'nope')), 'invalid-envelope');
    assert.equal(reasonOf(kafkaMessage({ ...created, type: 'ProductTeleported' }, 0)), 'unknown-type');
    assert.equal(reasonOf(kafkaMessage({ ...created, schemaVersion: 2 }, 0)), 'unsupported-schema-version');
    assert.equal(reasonOf(kafkaMessage({ ...created, data: { ...created.data, stock: -1 } }, 0)), 'schema-violation');
    assert.equal(reasonOf(kafkaMessage({ ...created, data: { ...created.data, extra: 1 } }, 0)), 'schema-violation');
  });

  test('a value with no string form is poison, not an exception that would stall the partition', () => {
    // `{"toString":1}` is valid JSON; superstruct's message interpolates the value, which then throws.
    const created = new StreamBuilder().created();
    const noString = { toString: 1 };
    assert.equal(reasonOf(kafkaMessage({ ...created, eventId: noString }, 0)), 'invalid-envelope');
    assert.equal(reasonOf(kafkaMessage({ ...created, version: noString }, 0)), 'invalid-envelope');
    assert.equal(
      reasonOf(kafkaMessage({ ...created, data: { ...created.data, name: noString } }, 0)),
      'schema-violation',
    );
    const decoded = decodeRecord(kafkaMessage({ ...created, data: { ...created.data, stock: noString } }, 0));
    assert.equal(decoded.kind, 'poison');
    if (decoded.kind === 'poison') assert.match(decoded.detail, /no text form/);
  });

  test('a record keyed by another id is poison: it would sit in the wrong partition and have two writers', () => {
    const created = new StreamBuilder().created();
    assert.equal(reasonOf(kafkaMessage(created, 0, new StreamBuilder().id)), 'key-mismatch');
  });

  test('a creation must be version 1 and version 1 must be a creation', () => {
    const stream = new StreamBuilder();
    const created = stream.created();
    const restocked = stream.restocked(1);
    assert.equal(reasonOf(kafkaMessage({ ...created, version: 2 }, 0)), 'invalid-stream-position');
    assert.equal(reasonOf(kafkaMessage({ ...restocked, version: 1 }, 0)), 'invalid-stream-position');
  });

  test('occurredAt must be a real instant, not one the calendar rolls over', () => {
    const created = new StreamBuilder().created();
    for (const impossible of [
      '2026-02-30T10:00:00Z',
      '2026-11-30T25:00:00Z',
      '2026-11-30T10:61:00Z',
      '2026-13-01T00:00:00.5Z',
    ]) {
      assert.equal(
        reasonOf(kafkaMessage({ ...created, occurredAt: impossible }, 0)),
        'invalid-occurred-at',
        impossible,
      );
    }
    for (const real of ['2024-02-29T23:59:59.999Z', '2026-11-30T00:00:00Z', '1999-12-31T23:59:59.123456Z']) {
      assert.equal(reasonOf(kafkaMessage({ ...created, occurredAt: real }, 0)), 'event', real);
    }
  });
});

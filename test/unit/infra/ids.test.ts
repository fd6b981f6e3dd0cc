import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../../../src/infra/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('event ids are UUIDv7: version 7, RFC 9562 variant, ordered by time', () => {
  const early = uuidv7(1_700_000_000_000);
  const late = uuidv7(1_700_000_000_001);
  assert.match(early, UUID_V7);
  assert.ok(early < late);
});

test('a UUIDv7 carries its millisecond in its first 48 bits, and random bits after them', () => {
  const now = Date.now();
  const ids = Array.from({ length: 1000 }, () => uuidv7(now));
  for (const id of ids) {
    assert.match(id, UUID_V7);
    assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
  }
  assert.equal(new Set(ids).size, ids.length);
  const randomPart = new Set(ids.map((id) => id.slice(15, 18)));
  assert.ok(randomPart.size > 100, `the 12 bits after the version vary: ${randomPart.size} values in 1000 ids`);
});

test('a UUIDv7 at the largest 48-bit millisecond keeps the layout', () => {
  assert.match(uuidv7(2 ** 48 - 1), /^ffffffff-ffff-7/);
  assert.match(uuidv7(0), /^00000000-0000-7/);
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ProblemError } from '../../../src/http/problem.ts';
import { decodeCursor, encodeCursor, queryDigest } from '../../../src/http/query/cursor.ts';
import type { ProductSort, SortKey } from '../../../src/projections/views/products/list-rules.ts';

const id = randomUUID();
const snapshot = new Date('2026-04-01T10:00:00.123Z');

describe('list cursor', () => {
  test('round-trips the generation, snapshot, query digest and the typed sort key of each sort', () => {
    const keys: [ProductSort, SortKey][] = [
      ['name', 'Mug "large" ü'],
      ['price', 1299],
      ['-price', 1],
      ['updatedAt', new Date('2026-01-02T03:04:05.678Z')],
      ['-updatedAt', new Date(0)],
    ];
    for (const [sort, key] of keys) {
      const query = queryDigest(sort, { currency: 'EUR' });
      const text = encodeCursor({ generation: 4, snapshot, query, after: { key, id } }, sort);
      assert.match(text, /^[\w-]+$/, 'URL-safe');
      assert.deepEqual(decodeCursor(text, sort), { generation: 4, snapshot, query, after: { key, id } });
    }
  });

  test('the query digest differs whenever a filter or the sort differs', () => {
    const digests = new Set([
      queryDigest('name', {}),
      queryDigest('price', {}),
      queryDigest('name', { status: 'active' }),
      queryDigest('name', { q: 'mug' }),
      queryDigest('name', { minPrice: 1 }),
      queryDigest('name', { maxPrice: 1 }),
      queryDigest('name', { currency: 'EUR' }),
    ]);
    assert.equal(digests.size, 7);
  });

  test('a tampered cursor is refused rather than passed to MongoDB', () => {
    const wire = (fields: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ v: 1, g: 1, t: 0, h: 'x', s: 'name', k: 'a', i: id, ...fields })).toString(
        'base64url',
      );
    const refused: [string, ProductSort][] = [
      ['not base64 at all!', 'name'],
      [wire({ k: { $gt: '' } }), 'name'],
      [wire({ i: 'not-a-uuid' }), 'name'],
      [wire({ v: 2 }), 'name'],
      [wire({ g: 0 }), 'name'],
      [wire({ k: 5 }), 'name'],
      [wire({ s: 'price', k: 1.5 }), 'price'],
      [wire({ extra: true }), 'name'],
      // No text form: superstruct's message for it used to throw a TypeError (a 500).
      [wire({ k: { toString: 1 } }), 'name'],
      [wire({ extra: { toString: 1 } }), 'name'],
    ];
    for (const [text, sort] of refused) {
      assert.throws(
        () => decodeCursor(text, sort),
        (error: unknown) => error instanceof ProblemError && error.code === 'validation-failed',
        text,
      );
    }
  });
});

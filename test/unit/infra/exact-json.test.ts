import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactJson } from '../../../src/infra/exact-json.ts';

test('writes BigInts as exact integer literals and everything else as JSON.stringify does', () => {
  const value = {
    stockUnits: 2n ** 54n - 3n,
    inventoryValue: { EUR: -(10n ** 30n), 'a"b': 1n },
    list: [1, 'x', null, undefined, true],
    at: new Date('2026-11-30T00:00:00.000Z'),
    skipped: undefined,
  };
  const text = exactJson(value);
  assert.equal(
    text,
    '{"stockUnits":18014398509481981,"inventoryValue":{"EUR":-1000000000000000000000000000000,"a\\"b":1},' +
      '"list":[1,"x",null,null,true],"at":"2026-11-30T00:00:00.000Z"}',
  );
  const plain = { a: [1, { b: 'c' }], d: null };
  assert.equal(exactJson(plain), JSON.stringify(plain));
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { array, number, object, refine, string } from 'superstruct';
import { UNPRINTABLE_MESSAGE, validateInput } from '../../../src/domain/validate-input.ts';

const Item = object({ name: string(), tags: array(string()), size: number() });

describe('validateInput', () => {
  test('answers as superstruct does for a value it can describe', () => {
    const item = { name: 'mug', tags: ['a'], size: 1 };
    assert.deepEqual(validateInput(item, Item), [undefined, item]);
    const [error] = validateInput({ ...item, size: 'big' }, Item);
    assert.deepEqual(error?.path, ['size']);
    assert.match(error?.message ?? '', /Expected a number/);
  });

  test('fails a value with no text form, at its place, where superstruct throws', () => {
    const noText = { toString: 1 };
    const [error] = validateInput({ name: 'mug', tags: ['a', noText], size: 1 }, Item);
    assert.deepEqual(error?.path, ['tags', 1]);
    assert.equal(error?.failures()[0]?.message, UNPRINTABLE_MESSAGE);
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const [deepError] = validateInput({ name: deep, tags: [], size: 1 }, Item);
    assert.deepEqual(deepError?.path, ['name']);
    assert.equal(deepError?.failures().length, 1);
  });

  test('throws again what no such value explains: a refinement that fails on its own', () => {
    const Broken = refine(string(), 'broken', () => {
      throw new TypeError('a bug in a refinement');
    });
    assert.throws(() => validateInput('fine', Broken), /a bug in a refinement/);
  });
});

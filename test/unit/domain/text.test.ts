import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { validate } from 'superstruct';
import {
  codePointLength,
  escapeUnstorable,
  isStorableText,
  STORABLE_TEXT_PATTERN,
  StorableText,
  storableTextOfLength,
  UNSTORABLE_TEXT_MESSAGE,
} from '../../../src/domain/text.ts';
import { storableText, UNSTORABLE_UNITS, unstorableText } from './arbitraries.ts';

/** Any sequence of UTF-16 code units, well-formed or not. */
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) });

/** The oracle: ES2024's String.prototype.isWellFormed (Node 20 has it; the TypeScript lib here is ES2023). */
const wellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

describe('storable text', () => {
  const refused: [string, string][] = [
    ['a NUL', 'a\u0000b'],
    ['a NUL alone', '\u0000'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone high surrogate at the end', 'ab\udbff'],
    ['a lone low surrogate', 'a\udc00b'],
    ['a lone low surrogate at the start', '\udfffab'],
    ['a pair in the wrong order', '\udc00\ud800'],
    ['a high surrogate followed by another high one', '\ud83d\ud83d\ude00'],
  ];
  for (const [what, text] of refused) {
    test(`refuses ${what}`, () => {
      assert.equal(isStorableText(text), false);
      const [error] = validate(text, StorableText);
      assert.equal(error?.message, UNSTORABLE_TEXT_MESSAGE);
    });
  }

  const accepted: [string, string][] = [
    ['the empty string', ''],
    ['plain text', 'Coffee mug'],
    ['a surrogate pair (an emoji)', 'mug \ud83d\ude00'],
    ['other control characters', 'tab\there\u0001\u001f\u007f'],
    ['non-characters and the replacement character', '\ufffe\uffff\ufffd'],
  ];
  for (const [what, text] of accepted) {
    test(`accepts ${what}`, () => {
      assert.equal(isStorableText(text), true);
      assert.equal(validate(text, StorableText)[0], undefined);
    });
  }

  test('is storable exactly when well-formed and free of NUL, for any code units', () => {
    fc.assert(
      fc.property(anyUnits, (text) => {
        assert.equal(isStorableText(text), wellFormed(text) && !text.includes('\u0000'));
      }),
    );
  });

  test('accepts every generated storable text and refuses every generated unstorable one', () => {
    fc.assert(fc.property(storableText({ maxLength: 50 }), (text) => assert.ok(isStorableText(text), text)));
    fc.assert(fc.property(unstorableText, (text) => assert.ok(!isStorableText(text), JSON.stringify(text))));
  });

  test('matches the OpenAPI pattern read with Unicode semantics', () => {
    const documented = new RegExp(STORABLE_TEXT_PATTERN, 'u');
    for (const unit of UNSTORABLE_UNITS) assert.equal(documented.test(`a${unit}b`), false, JSON.stringify(unit));
    assert.equal(documented.test('mug \ud83d\ude00'), true);
    fc.assert(fc.property(anyUnits, (text) => assert.equal(documented.test(text), isStorableText(text))));
  });

  test('escapes what cannot be stored as \\uXXXX and leaves everything else as it is', () => {
    assert.equal(escapeUnstorable('a\u0000b\ud800c\udc00'), 'a\\u0000b\\ud800c\\udc00');
    assert.equal(escapeUnstorable('mug \ud83d\ude00'), 'mug \ud83d\ude00');
    fc.assert(
      fc.property(anyUnits, (text) => {
        const escaped = escapeUnstorable(text);
        assert.ok(isStorableText(escaped));
        if (isStorableText(text)) assert.equal(escaped, text);
      }),
    );
  });

  test('counts code points as JSON Schema does: a surrogate pair is one, a lone surrogate one', () => {
    assert.equal(codePointLength('mug \ud83d\ude00'), 5);
    assert.equal(codePointLength('a\ud800\ud800b'), 4);
    fc.assert(fc.property(anyUnits, (text) => assert.equal(codePointLength(text), Array.from(text).length)));
    const [tooLong] = validate('\ud83d\ude00'.repeat(3), storableTextOfLength(1, 2));
    assert.ok(tooLong);
    assert.equal(validate('\ud83d\ude00'.repeat(2), storableTextOfLength(1, 2))[0], undefined);
  });
});

import { refine, type Struct, string } from 'superstruct';

/**
 * Text the stores can hold. PostgreSQL refuses NUL in `text` and `jsonb` ("unsupported Unicode
 * escape sequence"), and an unpaired UTF-16 surrogate (a lone \ud800 or \udc00) is not Unicode at
 * all: `jsonb` refuses its escape and UTF-8 cannot encode it. One such string used to fail the
 * whole group commit it shared, so every string that can reach an event or an idempotency record
 * is refined with `storable`, in the domain structs that both the HTTP schemas and the decider use.
 */

// Without the `u` flag a regular expression sees UTF-16 code units, which is what finds a surrogate
// that has no partner; a well-formed pair (an emoji) matches neither branch.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL or unpaired surrogate characters';

/** True when the text holds no NUL and no unpaired surrogate. */
export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

/** Refines a string struct to storable text; the refinement goes innermost, so its message comes first. */
export const storable = <T extends string, S>(struct: Struct<T, S>): Struct<T, S> =>
  refine(struct, 'storable text', (value) => isStorableText(value) || UNSTORABLE_TEXT_MESSAGE);

/** A string the stores can hold: the base of every text field of a command, event or envelope. */
export const StorableText = storable(string());

/**
 * Writes each NUL or unpaired surrogate as the six characters `\uXXXX`, so that text quoting input
 * (a rejection's detail, a problem's field path) is itself storable and well-formed JSON.
 */
export const escapeUnstorable = (text: string): string =>
  isStorableText(text)
    ? text
    : text.replace(UNSTORABLE_ALL, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The same rule as a JSON Schema `pattern` (ECMA-262 with Unicode semantics, where a surrogate
 * pair is one code point and only a lone surrogate falls in \ud800-\udfff), for the OpenAPI documents.
 */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000\\ud800-\\udfff]*$';

/** Characters as JSON Schema's `minLength` and `maxLength` count them: code points, so an emoji is one. */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      length--;
      i++;
    }
  }
  return length;
}

/**
 * Storable text of `min` to `max` characters, counted in code points as the OpenAPI documents'
 * `minLength`/`maxLength` say (superstruct's `size` counts UTF-16 units: two per emoji).
 */
export const storableTextOfLength = (min: number, max: number): Struct<string, null> =>
  refine(StorableText, 'length', (value) => {
    const length = codePointLength(value);
    return (
      (length >= min && length <= max) ||
      `Expected a string with a length between \`${min}\` and \`${max}\` but received one with a length of \`${length}\``
    );
  });

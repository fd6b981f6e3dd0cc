import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  assemblePage,
  compareText,
  type ListedProduct,
  nameMatcher,
  textSortKey,
} from '../../../src/projections/views/products/list-rules.ts';

const text = fc.string({ unit: 'binary', maxLength: 8 });

test('names order as their UTF-8 bytes do (code point order), which is how MongoDB and FerretDB compare them', () => {
  fc.assert(
    fc.property(text, text, (a, b) => {
      const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(Math.sign(compareText(a, b)), bytes);
      const [x, y] = [textSortKey(a), textSortKey(b)];
      assert.equal(x < y ? -1 : x > y ? 1 : 0, bytes, 'the index keys order the same way');
    }),
    { numRuns: 5000 },
  );
  assert.ok(compareText('\u{1D49C}', '\uFF21') > 0, 'U+1D49C after U+FF21, unlike UTF-16 code units');
  assert.ok(compareText('B', 'a') < 0, 'case-sensitive: capitals first');
});

test('q matches a literal substring under simple case folding, outside the BMP too', () => {
  assert.equal(nameMatcher('MUG')('Coffee mug'), true);
  assert.equal(nameMatcher('.*')('Coffee mug'), false, 'never a pattern');
  assert.equal(nameMatcher('(')('Mug (large)'), true);
  assert.equal(nameMatcher('\u{10428}')('\u{10400}dam'), true, 'Deseret capital and small letter fold together');
  assert.equal(nameMatcher('\u03C3')('\u039F\u0394\u039F\u03A3'), true, 'Greek sigma, any case');
  assert.equal(nameMatcher('\u{1F600}')('smile \u{1F600}'), true);
  fc.assert(
    fc.property(text, text, text, (before, middle, after) => {
      assert.equal(nameMatcher(middle.length > 0 ? middle : 'x')(`${before}${middle || 'x'}${after}`), true);
    }),
    { numRuns: 2000 },
  );
});

test('a walk counts every product it gives against the budget, listed or not', () => {
  const names = ['a', 'b', 'c', 'd'];
  let at = -1;
  const walk = {
    product: undefined as unknown as ListedProduct,
    name: '',
    price: 1,
    current: true,
    next: () => {
      at += 1;
      if (at >= names.length) return false;
      const name = names[at] as string;
      walk.product = { id: `00000000-0000-4000-8000-00000000000${at}`, name } as ListedProduct;
      walk.name = name;
      walk.current = name !== 'b';
      return true;
    },
    more: () => at + 1 < names.length,
  };
  const page = assemblePage({ filters: {}, sort: 'name', limit: 5, snapshot: new Date(0), walkBudget: 3 }, walk);
  assert.deepEqual(
    page.items.map((p) => p.name),
    ['a', 'c'],
    'b was not current at the snapshot',
  );
  assert.deepEqual(page.last, { key: 'c', id: '00000000-0000-4000-8000-000000000002' });
});

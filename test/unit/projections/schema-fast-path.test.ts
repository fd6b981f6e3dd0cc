import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { is, type Struct } from 'superstruct';
import { EventMetadata } from '../../../src/domain/envelope.ts';
import { MAX_AMOUNT, Money } from '../../../src/domain/money.ts';
import { PRODUCT_EVENT_TYPES } from '../../../src/domain/product/events.ts';
import { isStorableText } from '../../../src/domain/text.ts';
import { EVENT_SCHEMAS, schemaRejection } from '../../../src/projections/record.ts';
import {
  DATA_FIELDS,
  METADATA_FIELDS,
  MONEY_FIELDS,
  passesEventSchemas,
} from '../../../src/projections/schema-fast-path.ts';
import { StreamBuilder } from './stream-builder.ts';

const keysOf = (struct: Struct<unknown, unknown>) => Object.keys(struct.schema as Record<string, unknown>);

/** One envelope of each event type, as the command side writes them. */
function envelopesOfEveryType(name = 'Mug', amount = 1299): unknown[] {
  const stream = new StreamBuilder();
  return [
    stream.created({ name, price: { amount, currency: 'EUR' } }),
    stream.priceChanged(amount + 1),
    stream.renamed(name),
    stream.restocked(3),
    stream.reserved(2),
    stream.discontinued(),
  ];
}

const emoji = '\u{1F600}';
/** Values around every limit and pattern of the schemas, and of the wrong types. */
const TRICKY = [
  '',
  'x',
  '\u0000',
  'a\ud800',
  '\udc00b',
  emoji,
  emoji.repeat(64),
  emoji.repeat(65),
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(200),
  'x'.repeat(201),
  emoji.repeat(200),
  'x'.repeat(2000),
  'x'.repeat(2001),
  '5956FADA-8827-4B06-862C-49114A4A51D9',
  '5956fada-8827-4b06-862c-49114a4a51d9x',
  'EUR',
  'eur',
  'EURO',
  '2026-02-30T10:00:00Z',
  '2026-11-30T10:00:00.123456Z',
  '2026-11-30 10:00:00Z',
  'name',
  'description',
  'ProductCreated',
  'ProductTeleported',
  0,
  1,
  -1,
  1.5,
  2,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  2 ** 53 - 1,
  MAX_AMOUNT,
  MAX_AMOUNT + 1,
  null,
  true,
  undefined,
  [],
  {},
  ['name'],
  ['name', 'description'],
  ['name', 'name'],
  ['name', 'description', 'name'],
  ['title'],
  { amount: 5, currency: 'EUR' },
  { amount: 5, currency: 'EUR', extra: 1 },
];

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const children = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [
    prefix,
    ...children.flatMap((key) => pathsOf((value as Record<string | number, unknown>)[key], [...prefix, key])),
  ];
}

type Mutation = { kind: 'replace'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };

function mutate(original: unknown, path: Path, mutation: Mutation): unknown {
  const root = structuredClone({ root: original });
  let parent: Record<string | number, unknown> = root;
  let key: string | number = 'root';
  for (const step of path) {
    parent = parent[key] as Record<string | number, unknown>;
    key = step;
  }
  if (mutation.kind === 'replace') parent[key] = mutation.value;
  else if (mutation.kind === 'delete') delete parent[key];
  else {
    const target = parent[key];
    if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
      (target as Record<string, unknown>)[mutation.key] = mutation.value;
    }
  }
  return root.root;
}

describe('the schema fast path', () => {
  test('knows the same fields as the schemas, and which metadata fields are optional', () => {
    for (const type of PRODUCT_EVENT_TYPES) {
      const data = (EVENT_SCHEMAS[type].schema as { data: Struct<unknown, unknown> }).data;
      assert.deepEqual(keysOf(data), DATA_FIELDS[type], type);
    }
    assert.deepEqual(keysOf(Money as Struct<unknown, unknown>), [...MONEY_FIELDS]);
    assert.deepEqual(keysOf(EventMetadata as Struct<unknown, unknown>), Object.keys(METADATA_FIELDS));
    const metadata: Record<string, string> = {
      commandId: crypto.randomUUID(),
      idempotencyKey: 'k',
      correlationId: 'c',
      causationId: 'c',
      traceparent: 't',
    };
    for (const [key, rule] of Object.entries(METADATA_FIELDS)) {
      const { [key]: _, ...without } = metadata;
      assert.equal(is(without, EventMetadata), rule === 'optional', key);
    }
  });

  test('passes what the command side writes, of every type, so superstruct is not asked', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).filter(isStorableText),
        fc.integer({ min: 1, max: MAX_AMOUNT - 1 }),
        (name, amount) => {
          for (const envelope of envelopesOfEveryType(name, amount)) {
            assert.equal(schemaRejection(envelope), undefined);
            assert.equal(passesEventSchemas(envelope), true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('passes nothing that superstruct rejects: a field replaced, removed or added anywhere', () => {
    let passed = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: PRODUCT_EVENT_TYPES.length - 1 }),
        fc.nat(),
        fc.oneof(
          fc.record({
            kind: fc.constant('replace' as const),
            value: fc.oneof(fc.constantFrom(...TRICKY), fc.anything()),
          }),
          fc.constant({ kind: 'delete' as const }),
          fc.record({
            kind: fc.constant('add' as const),
            key: fc.constantFrom('extra', 'idempotencyKey', 'traceparent', 'amount', '__proto__'),
            value: fc.constantFrom(...TRICKY),
          }),
        ),
        (typeIndex, pathIndex, mutation) => {
          const original = envelopesOfEveryType()[typeIndex];
          const paths = pathsOf(original).filter((path) => path.length > 0);
          const mutated = mutate(original, paths[pathIndex % paths.length] as Path, mutation);
          if (passesEventSchemas(mutated)) {
            passed += 1;
            assert.equal(schemaRejection(mutated), undefined, JSON.stringify(mutated));
          } else if (schemaRejection(mutated) !== undefined) {
            rejected += 1;
          }
        },
      ),
      { numRuns: 4000 },
    );
    // Both sides of the implication were exercised.
    assert.ok(passed > 100, `${passed} mutated envelopes passed`);
    assert.ok(rejected > 1000, `${rejected} mutated envelopes were rejected`);
  });
});

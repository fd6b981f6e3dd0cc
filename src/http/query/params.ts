import type { Context } from 'hono';
import {
  coerce,
  enums,
  type Infer,
  integer,
  max,
  min,
  object,
  optional,
  type Struct,
  unknown,
  validate,
} from 'superstruct';
import { Uuid } from '../../domain/envelope.ts';
import { CurrencyCode, MAX_AMOUNT } from '../../domain/money.ts';
import { STORABLE_TEXT_PATTERN, storableTextOfLength } from '../../domain/text.ts';
import { PRODUCT_SORTS, type ProductFilters, type ProductSort } from '../../projections/views/products/list-rules.ts';
import { describe } from '../openapi/json-schema.ts';
import { ProblemError, pointer, validationProblem } from '../problem.ts';

/**
 * Query and path parameters are validated like bodies: only declared names, each at most once, typed
 * values. A name such as `minPrice[$gt]` is not declared, so it is a 422 and never reaches MongoDB.
 */

const DIGITS = /^-?\d{1,16}$/;

/**
 * A whole number given as text. Digits become a number and anything else stays as given, for
 * `integer()` to reject. The condition is `unknown()` on purpose: superstruct tests a coercion's
 * condition with `is()`, which builds a StructError (stack trace and all) whenever it fails, and an
 * absent parameter always failed `string()`: that was a fifth of a GET's CPU time.
 */
const integerParam = (lo: number, hi: number) =>
  coerce(max(min(integer(), lo), hi), unknown(), (value) =>
    typeof value === 'string' && DIGITS.test(value) ? Number(value) : value,
  );

/** An optional parameter, with what the OpenAPI document says about it. */
const param = <T>(struct: Struct<T, unknown>, docs: Record<string, unknown>) => describe(optional(struct), docs);

export const MAX_WAIT_MS = 10_000;
export const DEFAULT_WAIT_MS = 1_000;
export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;

export const ProductQuery = object({
  minVersion: param(integerParam(1, Number.MAX_SAFE_INTEGER), {
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'answer once the view has at least this version (read-your-writes)',
  }),
  maxWaitMs: param(integerParam(0, MAX_WAIT_MS), {
    minimum: 0,
    maximum: MAX_WAIT_MS,
    description: `how long to wait for minVersion before a 503 (default ${DEFAULT_WAIT_MS})`,
  }),
});

/**
 * A price range whose maximum is below its minimum is valid and empty (no price is in it), as a
 * JSON Schema of the parameters, which cannot relate two of them, says.
 */
export const ListQuery = object({
  limit: param(integerParam(1, MAX_LIMIT), {
    minimum: 1,
    maximum: MAX_LIMIT,
    description: `page size (default ${DEFAULT_LIMIT})`,
  }),
  cursor: param(storableTextOfLength(0, 2000), {
    maxLength: 2000,
    pattern: STORABLE_TEXT_PATTERN,
    description: 'nextCursor of the previous page; opaque. Empty or absent: the first page',
  }),
  status: param(enums(['active', 'discontinued']), {}),
  minPrice: param(integerParam(1, MAX_AMOUNT), {
    minimum: 1,
    maximum: MAX_AMOUNT,
    description: 'lowest price, inclusive, in minor units',
  }),
  maxPrice: param(integerParam(1, MAX_AMOUNT), {
    minimum: 1,
    maximum: MAX_AMOUNT,
    description: 'highest price, inclusive, in minor units',
  }),
  currency: param(CurrencyCode, { pattern: '^[A-Z]{3}$', description: 'ISO 4217 code of the price' }),
  // Text reaching MongoDB (and FerretDB's PostgreSQL) holds no NUL: `%00` decodes to one. A
  // percent-encoded lone surrogate (%ED%A0%80) is not UTF-8, so Hono leaves it undecoded.
  q: param(storableTextOfLength(1, 200), {
    minLength: 1,
    maxLength: 200,
    pattern: STORABLE_TEXT_PATTERN,
    description: 'names containing this text, case-insensitively',
  }),
  sort: param(enums(PRODUCT_SORTS), { description: 'default name; ties are broken by id' }),
});

export const NoQuery = object({});

export function parseQuery<T>(c: Context, schema: Struct<T, unknown>): T {
  const given = c.req.queries();
  const repeated = Object.entries(given)
    .filter(([, values]) => values.length > 1)
    .map(([name]) => ({ path: pointer([name]), message: 'must be given once' }));
  if (repeated.length > 0) {
    throw new ProblemError('validation-failed', `the query has ${repeated.length} invalid parameter(s)`, {
      errors: repeated,
    });
  }
  const values = Object.fromEntries(Object.entries(given).map(([name, [value]]) => [name, value]));
  const [error, parsed] = validate(values, schema, { coerce: true });
  if (error) throw validationProblem(error, 'query');
  return parsed;
}

export function parseProductId(c: Context): string {
  const id = c.req.param('id') ?? '';
  const [error] = validate(id, Uuid);
  if (error) {
    throw new ProblemError('validation-failed', 'the path has 1 invalid parameter(s)', {
      errors: [{ path: '/id', message: 'must be a UUID' }],
    });
  }
  return id;
}

export type ParsedList = Infer<typeof ListQuery>;

/** What a parsed list query asks for, defaults applied: the list handler's and the bench's one reading. */
export function listShape(query: ParsedList): { sort: ProductSort; limit: number; filters: ProductFilters } {
  const { status, minPrice, maxPrice, currency, q } = query;
  return {
    sort: query.sort ?? 'name',
    limit: query.limit ?? DEFAULT_LIMIT,
    filters: { status, minPrice, maxPrice, currency, q },
  };
}

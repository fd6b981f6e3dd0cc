import { createHash } from 'node:crypto';
import { enums, integer, literal, min, nonempty, number, object, string, union } from 'superstruct';
import { Uuid } from '../../domain/envelope.ts';
import { validateInput } from '../../domain/validate-input.ts';
import {
  PRODUCT_SORTS,
  type ProductFilters,
  type ProductSort,
  type SortKey,
} from '../../projections/views/products/list-rules.ts';
import { ProblemError } from '../problem.ts';

/**
 * The opaque `cursor` of a product list: base64url JSON naming the views generation, the snapshot
 * instant every page reads at, the query it belongs to (a digest of sort and filters) and the last
 * item's sort key and id. Nothing in it reaches MongoDB unchecked: it is validated like a parameter.
 */
export interface ListCursor {
  generation: number;
  snapshot: Date;
  query: string;
  after: { key: SortKey; id: string };
}

const Wire = object({
  v: literal(1),
  g: min(integer(), 1),
  t: min(integer(), 0),
  h: nonempty(string()),
  s: enums(PRODUCT_SORTS),
  k: union([string(), number()]),
  i: Uuid,
});

export const queryDigest = (sort: ProductSort, filters: ProductFilters): string =>
  createHash('sha256')
    .update(JSON.stringify([sort, filters.status, filters.minPrice, filters.maxPrice, filters.currency, filters.q]))
    .digest('base64url')
    .slice(0, 16);

export function encodeCursor(cursor: ListCursor, sort: ProductSort): string {
  const key = cursor.after.key instanceof Date ? cursor.after.key.getTime() : cursor.after.key;
  const wire = {
    v: 1,
    g: cursor.generation,
    t: cursor.snapshot.getTime(),
    h: cursor.query,
    s: sort,
    k: key,
    i: cursor.after.id,
  };
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

export const cursorProblem = (message: string): ProblemError =>
  new ProblemError('validation-failed', 'the query has 1 invalid parameter(s)', {
    errors: [{ path: '/cursor', message }],
  });

/** Decodes a cursor for `sort`; a cursor of another sort, or with a key of the wrong type, is invalid. */
export function decodeCursor(text: string, sort: ProductSort): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw cursorProblem('is not a cursor this service issued');
  }
  const [error, wire] = validateInput(parsed, Wire);
  if (error) throw cursorProblem('is not a cursor this service issued');
  if (wire.s !== sort) throw cursorProblem('belongs to a list with another sort');
  const key = keyFor(sort, wire.k);
  if (key === undefined) throw cursorProblem('is not a cursor this service issued');
  return { generation: wire.g, snapshot: new Date(wire.t), query: wire.h, after: { key, id: wire.i } };
}

function keyFor(sort: ProductSort, key: string | number): SortKey | undefined {
  if (sort === 'name') return typeof key === 'string' ? key : undefined;
  if (!Number.isSafeInteger(key)) return undefined;
  return sort === 'updatedAt' || sort === '-updatedAt' ? new Date(key as number) : key;
}

import { type Failure, type Struct, StructError, validate } from 'superstruct';

export const UNPRINTABLE_MESSAGE = 'has no text form: an object with its own "toString", or nesting thousands deep';

/** Arrays nested this deep in each other are far deeper than any schema, and near where joining them risks the stack. */
const PRINTABLE_DEPTH = 1000;

/**
 * superstruct's `validate` for values from outside: request bodies, cursors, Kafka records. There
 * `validate` can throw where it should fail. It writes a failure's message with the value in it
 * (`${value}`), and some JSON has no such text: an object with its own `toString` member
 * (`{"toString":1}`) throws a TypeError, and arrays nested thousands deep exceed the stack while they
 * are joined (a RangeError). Each answered 500 from the command service, and a Kafka record holding
 * one stopped its partition. superstruct writes a message only for a failure, so the value fails all
 * the same: reported here at the first such place found in it, with a message of ours. A throw with no
 * such place in the value is not one of these and is thrown again.
 */
export function validateInput<T, S>(
  value: unknown,
  struct: Struct<T, S>,
  options: { coerce?: boolean } = {},
): [StructError, undefined] | [undefined, T] {
  try {
    return validate(value, struct, options);
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const found = unprintablePlace(value);
    if (!found) throw error;
    const failure: Failure = {
      value: found.node,
      key: found.path.at(-1),
      type: struct.type,
      refinement: undefined,
      message: UNPRINTABLE_MESSAGE,
      path: found.path,
      branch: [value],
    };
    return [new StructError(failure, function* () {}), undefined];
  }
}

interface Visit {
  node: unknown;
  key: string | number | undefined;
  parent: Visit | undefined;
  /** The outermost array of the arrays this node is directly nested in, and how many they are. */
  arrays: { outermost: Visit; depth: number } | undefined;
}

/**
 * The first object with its own `toString`, or the outermost of arrays nested directly in each other
 * PRINTABLE_DEPTH deep (an array prints by joining its items; an object in between prints as
 * `[object Object]` and ends the chain), depth first, without recursion.
 */
function unprintablePlace(value: unknown): { node: unknown; path: (string | number)[] } | undefined {
  const pending: Visit[] = [{ node: value, key: undefined, parent: undefined, arrays: undefined }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { node } = visit;
    if (typeof node !== 'object' || node === null) continue;
    if (!Array.isArray(node) && Object.hasOwn(node, 'toString')) return { node, path: pathOf(visit) };
    const arrays = Array.isArray(node)
      ? { outermost: visit.arrays?.outermost ?? visit, depth: (visit.arrays?.depth ?? 0) + 1 }
      : undefined;
    if (arrays && arrays.depth >= PRINTABLE_DEPTH) {
      return { node: arrays.outermost.node, path: pathOf(arrays.outermost) };
    }
    const entries = Object.entries(node);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      pending.push({ node: child, key: Array.isArray(node) ? Number(key) : key, parent: visit, arrays });
    }
  }
  return undefined;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

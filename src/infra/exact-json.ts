/**
 * JSON text of plain data in which a BigInt is written as the integer literal it is. JSON numbers have
 * no size limit, but `JSON.stringify` refuses a BigInt, and a Number past 2^53 is already rounded; a
 * reader that needs every digit parses the text with a big-integer-aware parser (Python's json module
 * does by default). Objects other than arrays and plain records (dates) are written as
 * `JSON.stringify` writes them.
 */
export function exactJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((item) => exactJson(item ?? null)).join(',')}]`;
  if (isPlainRecord(value)) {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${JSON.stringify(key)}:${exactJson(member)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

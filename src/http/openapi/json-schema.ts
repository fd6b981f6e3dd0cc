import { is, type Struct } from 'superstruct';

/**
 * JSON Schema for the OpenAPI document, derived from the same superstruct schemas that validate
 * requests, so the docs cannot drift from the code. superstruct keeps its refinements as opaque
 * functions; bounds that matter to clients are added by `describe` where a schema is declared.
 */

type JsonSchema = Record<string, unknown>;
const notes = new WeakMap<Struct<unknown, unknown>, JsonSchema>();

/** Attaches JSON Schema keywords (minimum, pattern, description...) to a struct for the docs. */
export function describe<T, S>(struct: Struct<T, S>, extra: JsonSchema): Struct<T, S> {
  notes.set(struct as Struct<unknown, unknown>, { ...(notes.get(struct as Struct<unknown, unknown>) ?? {}), ...extra });
  return struct;
}

export function toJsonSchema(struct: Struct<unknown, unknown>): JsonSchema {
  const extra = notes.get(struct) ?? {};
  const schema = struct.schema as unknown;
  switch (struct.type) {
    case 'object':
    case 'type': {
      const fields = (schema ?? {}) as Record<string, Struct<unknown, unknown>>;
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [key, field] of Object.entries(fields)) {
        properties[key] = toJsonSchema(field);
        if (!is(undefined, field)) required.push(key);
      }
      return {
        type: 'object',
        properties,
        ...(required.length ? { required } : {}),
        ...(struct.type === 'object' ? { additionalProperties: false } : {}),
        ...extra,
      };
    }
    case 'array':
      return {
        type: 'array',
        ...(schema ? { items: toJsonSchema(schema as Struct<unknown, unknown>) } : {}),
        ...extra,
      };
    case 'enums':
      return { type: 'string', enum: Object.values(schema as Record<string, unknown>), ...extra };
    case 'literal':
      return { const: schema, ...extra };
    case 'union':
      return { oneOf: (schema as Struct<unknown, unknown>[]).map(toJsonSchema), ...extra };
    case 'integer':
      return { type: 'integer', ...extra };
    case 'number':
      return { type: 'number', ...extra };
    case 'string':
      return { type: 'string', ...extra };
    case 'boolean':
      return { type: 'boolean', ...extra };
    default:
      return { ...extra };
  }
}

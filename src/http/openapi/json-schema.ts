import { is, type Struct } from 'superstruct';

/**
 * JSON Schema for the OpenAPI document, derived from the same superstruct schemas that validate
 * requests, so the docs cannot drift from the code. superstruct keeps its refinements as opaque
 * functions; bounds that matter to clients are added by `describe` where a schema is declared.
 */

type JsonSchema = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: any schema, whatever its value and shape types
export type AnyStruct = Struct<any, any>;
const notes = new WeakMap<AnyStruct, JsonSchema>();

/** Attaches JSON Schema keywords (minimum, pattern, description...) to a struct for the docs. */
export function describe<T, S>(struct: Struct<T, S>, extra: JsonSchema): Struct<T, S> {
  notes.set(struct, { ...(notes.get(struct) ?? {}), ...extra });
  return struct;
}

export function toJsonSchema(struct: AnyStruct): JsonSchema {
  const extra = notes.get(struct) ?? {};
  const schema = struct.schema as unknown;
  switch (struct.type) {
    case 'object':
    case 'type': {
      const fields = (schema ?? {}) as Record<string, AnyStruct>;
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
        ...(schema ? { items: toJsonSchema(schema as AnyStruct) } : {}),
        ...extra,
      };
    case 'enums':
      return { type: 'string', enum: Object.values(schema as Record<string, unknown>), ...extra };
    case 'literal':
      return { const: schema, ...extra };
    case 'union':
      return { oneOf: (schema as AnyStruct[]).map(toJsonSchema), ...extra };
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

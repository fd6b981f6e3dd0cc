import { type AnyStruct, toJsonSchema } from '../openapi/json-schema.ts';
import {
  EXAMPLE_ID,
  header,
  healthPaths,
  jsonResponse,
  type ProblemExample,
  problemResponse,
  problemSchema,
  validationExample,
} from '../openapi/responses.ts';
import { PROBLEMS } from '../problem.ts';
import { ChangePriceBody, CreateProductBody, ReservationBody, RestockBody, UpdateDetailsBody } from './schemas.ts';
import { IF_MATCH_PATTERN, KEY_PATTERN, KEY_REQUIRED_DETAIL, KEY_REQUIRED_LINK } from './write-pipeline.ts';

type Json = Record<string, unknown>;

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: "the product's id (a UUID)",
  schema: { type: 'string', format: 'uuid' },
  example: EXAMPLE_ID,
};
const idempotencyKey = (required: boolean) => ({
  name: 'Idempotency-Key',
  in: 'header',
  required,
  schema: { type: 'string', pattern: KEY_PATTERN },
  example: '7d1c4c0e-create-1',
  description: required
    ? 'required (400 idempotency-key-required without it): a retried restock or reservation would otherwise ' +
      'apply twice. A replay with the same body returns the original answer with Idempotent-Replayed: true'
    : 'a replay with the same body returns the original answer with Idempotent-Replayed: true; ' +
      'the same key with another body is a 422',
});
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: IF_MATCH_PATTERN },
  example: '"1"',
  description: 'apply only if the product is at this version ("<version>", the ETag of a write or read), else 412',
};

const versionHeaders = {
  ETag: header('"<version>" of the product after the write', { type: 'string', pattern: '^"[0-9]+"$' }),
  'Idempotent-Replayed': header(
    'true when this is the stored answer of an earlier request with the same key',
    {
      type: 'string',
      enum: ['true'],
    },
    false,
  ),
};
const idVersion = { id: { type: 'string', format: 'uuid' }, version: { type: 'integer', minimum: 1 } };
const written = (extra: Json = {}, required: string[] = []) => ({
  type: 'object',
  required: ['id', 'version', ...required],
  properties: { ...idVersion, ...extra },
});

/** The 2xx of each write, with the links a client follows next (the flow create -> change price -> reserve). */
const createdResponse = {
  ...jsonResponse(
    'created; Location names the product, ETag is its version. Read it from the query service with ' +
      'GET /products/{id}?minVersion={version} (read-your-writes: the read waits until the view has it)',
    written(),
    { id: EXAMPLE_ID, version: 1 },
    { Location: header('/products/{id}', { type: 'string' }), ...versionHeaders },
  ),
  links: {
    ChangePrice: {
      operationId: 'changePrice',
      parameters: { id: '$response.body#/id' },
      description: 'change the price of the new product',
    },
    ReserveStock: {
      operationId: 'reserveStock',
      parameters: { id: '$response.body#/id' },
      description: 'reserve some of its initial stock',
    },
    Restock: { operationId: 'restock', parameters: { id: '$response.body#/id' } },
    UpdateDetails: { operationId: 'updateDetails', parameters: { id: '$response.body#/id' } },
    Discontinue: { operationId: 'discontinueProduct', parameters: { id: '$response.body#/id' } },
    ReadEvents: { operationId: 'productEvents', parameters: { id: '$response.body#/id' } },
  },
};
const priceChangedResponse = {
  ...jsonResponse(
    'the price is changed (or already was this price: no event)',
    written(),
    { id: EXAMPLE_ID, version: 2 },
    versionHeaders,
  ),
  links: {
    ReserveStock: {
      operationId: 'reserveStock',
      parameters: { id: '$response.body#/id' },
      description: 'reserve stock at the new price',
    },
    ReadEvents: { operationId: 'productEvents', parameters: { id: '$response.body#/id' } },
  },
};

const CONFLICTS: Record<string, ProblemExample> = {
  'sku-taken': { code: 'sku-taken', detail: 'SKU TSHIRT-RED-M is already used by another product' },
  'already-exists': { code: 'already-exists', detail: 'the product already exists' },
  'insufficient-stock': { code: 'insufficient-stock', detail: 'requested 5 but only 2 in stock' },
  'stock-limit': {
    code: 'stock-limit',
    detail: '9007199254740990 in stock: adding 5 passes the largest storable stock',
  },
  'product-discontinued': { code: 'product-discontinued', detail: 'the product is discontinued' },
  'nothing-to-change': { code: 'nothing-to-change', detail: 'name and description are already these' },
  'version-conflict': { code: 'version-conflict', detail: 'the product changed concurrently; retry' },
  'idempotency-key-in-flight': {
    code: 'idempotency-key-in-flight',
    detail: 'a request with this Idempotency-Key is still being processed',
  },
};
const conflict = (codes: (keyof typeof CONFLICTS)[]) =>
  problemResponse(
    `business rule (${codes.join(', ')}), a concurrent write, or the Idempotency-Key's first request still in flight`,
    [...codes, 'version-conflict', 'idempotency-key-in-flight'].map((code) => CONFLICTS[code] as ProblemExample),
    { 'Retry-After': header('with version-conflict and idempotency-key-in-flight', { type: 'string' }, false) },
  );

const invalidJson = {
  code: 'invalid-json',
  detail: 'the body is not valid JSON: Unexpected end of JSON input',
} as const;
const keyRequired: ProblemExample = {
  code: 'idempotency-key-required',
  detail: KEY_REQUIRED_DETAIL,
  extra: { errors: [{ path: '/headers/idempotency-key', message: 'is required' }] },
};

const errors = {
  401: problemResponse(
    PROBLEMS.unauthorized.title,
    [{ code: 'unauthorized', detail: 'send Authorization: Bearer <token>' }],
    { 'WWW-Authenticate': header('Bearer realm="cqrs-catalog"') },
  ),
  404: problemResponse('no such product', [{ code: 'not-found', detail: `no product ${EXAMPLE_ID}` }]),
  412: problemResponse('If-Match names another version; currentVersion and ETag give the current one', [
    {
      code: 'precondition-failed',
      detail: 'If-Match expects version 1, the product is at version 3',
      extra: { currentVersion: 3 },
    },
  ]),
  413: problemResponse(PROBLEMS['payload-too-large'].title, [
    { code: 'payload-too-large', detail: 'the body exceeds 65536 bytes' },
  ]),
  415: problemResponse(PROBLEMS['unsupported-media-type'].title, [
    { code: 'unsupported-media-type', detail: 'expected Content-Type application/json, got text/plain' },
  ]),
  422: problemResponse(
    'the id, a header or the body does not match the schema, or the Idempotency-Key was used with another request',
    [
      validationExample('/price/amount', 'Expected an integer greater than or equal to 1 but received `0`'),
      { code: 'idempotency-key-reused', detail: 'this Idempotency-Key was used with a different request' },
    ],
  ),
  503: problemResponse('the event store or the command workers are unavailable or full; retry after Retry-After', [
    { code: 'service-unavailable', detail: 'the event store is unavailable; retry later' },
  ]),
};

interface WriteOptions {
  operationId: string;
  summary: string;
  body?: { schema: AnyStruct; example: unknown };
  success: Record<number, Json>;
  conflicts: (keyof typeof CONFLICTS)[];
  withId?: boolean;
  keyRequired?: boolean;
}

function write(o: WriteOptions): Json {
  const withId = o.withId ?? true;
  const badRequest = [...(o.body ? [invalidJson] : []), ...(o.keyRequired ? [keyRequired] : [])];
  return {
    operationId: o.operationId,
    summary: o.summary,
    tags: ['products'],
    security: [{ bearer: [] }],
    parameters: [...(withId ? [idParam] : []), idempotencyKey(o.keyRequired ?? false), ifMatch],
    ...(o.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toJsonSchema(o.body.schema), example: o.body.example } },
          },
        }
      : {}),
    responses: {
      ...o.success,
      ...(badRequest.length
        ? {
            400: problemResponse(
              `the body is not JSON${o.keyRequired ? ', or the required Idempotency-Key is missing' : ''}`,
              badRequest,
              o.keyRequired
                ? { Link: header(`with idempotency-key-required: \`${KEY_REQUIRED_LINK}\``, { type: 'string' }, false) }
                : {},
            ),
          }
        : {}),
      401: errors[401],
      ...(withId ? { 404: errors[404] } : {}),
      409: conflict(o.conflicts),
      412: errors[412],
      ...(o.body ? { 413: errors[413], 415: errors[415] } : {}),
      422: errors[422],
      503: errors[503],
    },
  };
}

const envelope = {
  type: 'object',
  required: ['eventId', 'type', 'aggregateId', 'version', 'occurredAt', 'schemaVersion', 'data', 'metadata'],
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    type: { type: 'string' },
    aggregateId: { type: 'string', format: 'uuid' },
    version: { type: 'integer', minimum: 1 },
    occurredAt: { type: 'string', format: 'date-time' },
    schemaVersion: { type: 'integer', minimum: 1 },
    data: { type: 'object' },
    metadata: { type: 'object' },
  },
};

/** The command service's OpenAPI 3.1 document, built from the same schemas that validate requests. */
export const commandOpenApi = {
  openapi: '3.1.0',
  info: {
    title: 'cqrs-catalog command API',
    version: '1.0.0',
    description:
      "Writes to the product catalog. Every write answers with the product's new `version` (and `ETag`); " +
      'read it back from the query service with `GET /products/{id}?minVersion={version}`. Writes take ' +
      '`If-Match: "<version>"` (412 when the product moved on) and `Idempotency-Key` (a replay answers as ' +
      'the first request did, with `Idempotent-Replayed: true`). Methods a path does not have answer 405 with `Allow`.',
  },
  tags: [
    { name: 'products', description: 'commands on products (bearer token)' },
    { name: 'operations', description: 'health and metrics (open)' },
  ],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token of COMMAND_API_TOKENS' } },
    schemas: { Problem: problemSchema },
  },
  paths: {
    '/products': {
      post: write({
        operationId: 'createProduct',
        summary: 'Create a product',
        body: {
          schema: CreateProductBody,
          example: {
            sku: 'TSHIRT-RED-M',
            name: 'T-shirt, red, M',
            description: 'Organic cotton',
            price: { amount: 1999, currency: 'EUR' },
            initialStock: 10,
          },
        },
        success: { 201: createdResponse },
        conflicts: ['sku-taken', 'already-exists'],
        withId: false,
      }),
    },
    '/products/{id}': {
      patch: write({
        operationId: 'updateDetails',
        summary: 'Update name and/or description',
        body: { schema: UpdateDetailsBody, example: { name: 'T-shirt, red, size M' } },
        success: { 200: jsonResponse('updated', written(), { id: EXAMPLE_ID, version: 2 }, versionHeaders) },
        conflicts: ['nothing-to-change', 'product-discontinued'],
      }),
      delete: write({
        operationId: 'discontinueProduct',
        summary: 'Discontinue a product (it stays readable, with status discontinued)',
        success: { 200: jsonResponse('discontinued', written(), { id: EXAMPLE_ID, version: 4 }, versionHeaders) },
        conflicts: ['product-discontinued'],
      }),
    },
    '/products/{id}/price': {
      put: write({
        operationId: 'changePrice',
        summary: 'Change the price',
        body: { schema: ChangePriceBody, example: { amount: 2499, currency: 'EUR' } },
        success: { 200: priceChangedResponse },
        conflicts: ['product-discontinued'],
      }),
    },
    '/products/{id}/stock/restock': {
      post: write({
        operationId: 'restock',
        summary: 'Add stock',
        body: { schema: RestockBody, example: { quantity: 5 } },
        success: {
          200: jsonResponse(
            'restocked; stock is the new level',
            written({ stock: { type: 'integer', minimum: 0 } }, ['stock']),
            { id: EXAMPLE_ID, version: 3, stock: 15 },
            versionHeaders,
          ),
        },
        conflicts: ['stock-limit', 'product-discontinued'],
        keyRequired: true,
      }),
    },
    '/products/{id}/stock/reservations': {
      post: write({
        operationId: 'reserveStock',
        summary: 'Reserve stock',
        body: { schema: ReservationBody, example: { quantity: 2, reservationId: 'order-1042' } },
        success: {
          201: jsonResponse(
            'reserved; stock is what is left',
            written({ stock: { type: 'integer', minimum: 0 }, reservationId: { type: 'string' } }, [
              'stock',
              'reservationId',
            ]),
            { id: EXAMPLE_ID, version: 3, stock: 8, reservationId: 'order-1042' },
            versionHeaders,
          ),
        },
        conflicts: ['insufficient-stock', 'product-discontinued'],
        keyRequired: true,
      }),
    },
    '/products/{id}/events': {
      get: {
        operationId: 'productEvents',
        summary: "The product's events from the event store, oldest first",
        tags: ['products'],
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: {
          200: jsonResponse(
            'the events; ETag is the last version',
            { type: 'object', required: ['items'], properties: { items: { type: 'array', items: envelope } } },
            {
              items: [
                {
                  eventId: '0193a5b0-7c2e-7d4f-9a1b-2c3d4e5f6a7b',
                  type: 'ProductCreated',
                  aggregateId: EXAMPLE_ID,
                  version: 1,
                  occurredAt: '2026-11-30T08:00:00.000Z',
                  schemaVersion: 1,
                  data: { sku: 'TSHIRT-RED-M', name: 'T-shirt, red, M', price: { amount: 1999, currency: 'EUR' } },
                  metadata: {
                    commandId: '5f0c2b1e-8d7a-4c3b-9e2f-1a0b9c8d7e6f',
                    correlationId: 'c0ffee00-0000-4000-8000-000000000001',
                    causationId: 'c0ffee00-0000-4000-8000-000000000001',
                  },
                },
              ],
            },
            { ETag: header('"<version>" of the last event', { type: 'string' }) },
          ),
          401: errors[401],
          404: errors[404],
          422: problemResponse('the id is not a UUID', [validationExample('/', 'Expected a string matching ...')]),
          503: errors[503],
        },
      },
    },
    ...healthPaths('PostgreSQL answers', { postgres: 'ok' }),
  },
};

import { Hono } from 'hono';
import { is, type Struct } from 'superstruct';
import { LIST_WALK_BUDGET } from '../../projections/views/products/list-rules.ts';
import { docsRoutes as scalarDocs } from '../openapi/docs-page.ts';
import { toJsonSchema } from '../openapi/json-schema.ts';
import {
  EXAMPLE_ID,
  header,
  healthPaths,
  jsonResponse,
  problemResponse,
  problemSchema,
  validationExample,
} from '../openapi/responses.ts';
import { consolePaths, consoleSchemas, consoleSecuritySchemes } from './openapi-console.ts';
import { ListQuery, MAX_WAIT_MS, ProductQuery } from './params.ts';

type Json = Record<string, unknown>;

const queryParameters = (struct: Struct<unknown, unknown>): Json[] =>
  Object.entries(struct.schema as Record<string, Struct<unknown, unknown>>).map(([name, field]) => {
    const { description, ...schema } = toJsonSchema(field);
    return { name, in: 'query', required: !is(undefined, field), schema, ...(description ? { description } : {}) };
  });

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: "the product's id (a UUID)",
  schema: { type: 'string', format: 'uuid' },
  example: EXAMPLE_ID,
};

const money = {
  type: 'object',
  required: ['amount', 'currency'],
  properties: { amount: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
};

const product = {
  type: 'object',
  required: ['id', 'sku', 'name', 'description', 'price', 'stock', 'status', 'version', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    sku: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    price: money,
    stock: { type: 'integer', minimum: 0 },
    status: { type: 'string', enum: ['active', 'discontinued'] },
    version: { type: 'integer', minimum: 1 },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const productExample = {
  id: EXAMPLE_ID,
  sku: 'TSHIRT-RED-M',
  name: 'T-shirt, red, M',
  description: 'Organic cotton',
  price: { amount: 1999, currency: 'EUR' },
  stock: 10,
  status: 'active',
  version: 1,
  createdAt: '2026-11-30T08:00:00.000Z',
  updatedAt: '2026-11-30T08:00:00.000Z',
};

const notFound = problemResponse('no such product', [{ code: 'not-found', detail: `no product ${EXAMPLE_ID}` }]);
const invalid = (description: string, path: string, message: string) =>
  problemResponse(description, [validationExample(path, message)]);
const unavailable = (description: string) =>
  problemResponse(description, [{ code: 'service-unavailable', detail: 'the views database does not answer' }]);
const unknownParameter = invalid('a query parameter this operation does not have', '/debug', 'is not an allowed field');
const adminUnauthorized = problemResponse(
  'missing or bad admin token (ADMIN_API_TOKENS)',
  [{ code: 'unauthorized', detail: 'an admin bearer token is required' }],
  { 'WWW-Authenticate': header('Bearer') },
);

/** Stock units and values are summed exactly, however large: one stock alone may be 2^53 - 1. */
const exactTotal =
  'exact, and may pass 2^53 - 1 (the largest integer a double holds exactly): read it with a JSON parser that keeps big integers';

const stats = {
  type: 'object',
  required: ['activeProducts', 'discontinuedProducts', 'stockUnits', 'inventoryValue'],
  properties: {
    activeProducts: { type: 'integer', minimum: 0 },
    discontinuedProducts: { type: 'integer', minimum: 0 },
    stockUnits: { type: 'integer', minimum: 0, description: `units in stock of active products; ${exactTotal}` },
    inventoryValue: {
      type: 'object',
      description: 'minor units per ISO 4217 currency, of active products',
      additionalProperties: { type: 'integer', minimum: 0, description: exactTotal },
    },
  },
};

const projections = {
  type: 'object',
  required: ['topic', 'consumerGroup', 'generation', 'totalLag', 'partitions'],
  properties: {
    topic: { type: 'string' },
    consumerGroup: {
      type: 'string',
      description: "The consumer group of the views generation this process projects (the pointer's)",
    },
    generation: {
      type: 'integer',
      description:
        'The views generation reads use. After a rebuild it follows the projected one once that has caught up with the views it replaces, so no read goes back in version',
    },
    totalLag: { type: 'integer', minimum: 0 },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['partition', 'committedOffset', 'endOffset', 'lag', 'lastEventAt', 'ownedHere'],
        properties: {
          partition: { type: 'integer', minimum: 0 },
          committedOffset: { type: ['integer', 'null'] },
          endOffset: { type: 'integer' },
          lag: { type: 'integer', minimum: 0 },
          lastEventAt: { type: ['string', 'null'], format: 'date-time' },
          ownedHere: { type: 'boolean' },
          state: { type: ['string', 'null'] },
          pausedReason: { type: ['string', 'null'] },
          gaps: {
            type: ['object', 'null'],
            description: 'events parked behind a missing version, where this process owns the partition',
            properties: {
              count: { type: 'integer', minimum: 0 },
              oldestParkedAt: { type: ['string', 'null'], format: 'date-time' },
              stale: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
    },
  },
};

/** How a list reads: the rules both engines (memory, MongoDB) follow, from list-rules.ts. */
const LIST_DESCRIPTION = [
  'Consistency: a snapshot. The first page fixes an instant (the latest one every partition of the projection ' +
    'has fully written); every later page of that pagination, through its cursor, reads the products as they were ' +
    'then, so a product that existed throughout is listed exactly once, in the place its values then give it, ' +
    'however often it changes meanwhile. Products created after the instant are not listed; a cursor lives ' +
    'LIST_CURSOR_TTL_SECONDS (600 s by default) and then answers 422.',
  'Order: by the sort key, then by product id. Names compare by Unicode code point, case-sensitive (the order of ' +
    'their UTF-8 bytes: "B" before "a", U+FF21 before U+1D49C).',
  '`q`: names containing it, taken literally (never a pattern), compared under Unicode simple case folding.',
  `Cost: a page walks at most ${LIST_WALK_BUDGET} products, in order, from where the cursor points; ` +
    '`status`, `currency` and, under a price sort, `minPrice`/`maxPrice` choose which products are walked at all ' +
    '(they are answered by an index), `q` and a price range under another sort are checked on each walked ' +
    'product. A page that walks its budget before it is full answers what it found (possibly nothing) with a ' +
    'nextCursor at the last product walked: follow it to go on. nextCursor is null once the walk reaches the end.',
  'The cursor is opaque: it names the views generation, the snapshot instant, the query (sort and filters) and ' +
    'the position (sort key and id) the next page starts after.',
].join('\n\n');

/** The OpenAPI 3.1 document of the query service, with parameters derived from the validating schemas. */
export function queryOpenApi(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'cqrs-catalog query service',
      version: '1.0.0',
      description:
        'Reads of the product catalog views. Views are eventually consistent; a read may wait for the ' +
        '`version` a write answered with (`minVersion`). Lists paginate over one snapshot of the catalog: ' +
        'every page shows products as they were when the first page was served. Methods a path does not ' +
        'have answer 405 with `Allow`.',
    },
    tags: [
      { name: 'products', description: 'the catalog views (open)' },
      { name: 'operations', description: 'projection progress, rebuilds, health and metrics' },
    ],
    components: {
      securitySchemes: consoleSecuritySchemes,
      schemas: { Problem: problemSchema, Product: product, ...consoleSchemas },
    },
    paths: {
      '/products/{id}': {
        get: {
          operationId: 'getProduct',
          summary: 'One product; ETag is its version, If-None-Match answers 304',
          tags: ['products'],
          parameters: [
            idParameter,
            ...queryParameters(ProductQuery as Struct<unknown, unknown>),
            {
              name: 'If-None-Match',
              in: 'header',
              required: false,
              schema: { type: 'string' },
              description: 'an ETag of an earlier read: 304 while the product is still at that version',
            },
          ],
          responses: {
            200: {
              ...jsonResponse('the product', { $ref: '#/components/schemas/Product' }, productExample, {
                ETag: header('"<version>"', { type: 'string', pattern: '^"[0-9]+"$' }),
              }),
              links: {
                PriceHistory: { operationId: 'priceHistory', parameters: { id: '$response.body#/id' } },
              },
            },
            304: { description: 'If-None-Match matched the current version' },
            404: problemResponse('no such product, or still none when the minVersion wait ended', [
              { code: 'not-found', detail: `no product ${EXAMPLE_ID}` },
            ]),
            422: invalid('the id is not a UUID, or a query parameter is invalid', '/minVersion', 'Expected an integer'),
            503: problemResponse(
              `the view did not reach minVersion within maxWaitMs (at most ${MAX_WAIT_MS}); currentVersion ` +
                'says where it is. Or the views database does not answer, or too many reads by id wait for it ' +
                '(`MONGO_READS_MAX`; with minVersion, not before maxWaitMs has passed)',
              [
                {
                  code: 'service-unavailable',
                  detail: `the view of ${EXAMPLE_ID} is at version 1, not yet 2; retry later`,
                  extra: { currentVersion: 1 },
                },
              ],
            ),
          },
        },
      },
      '/products': {
        get: {
          operationId: 'listProducts',
          summary: 'Products, filtered and sorted, a page at a time',
          description: LIST_DESCRIPTION,
          tags: ['products'],
          parameters: queryParameters(ListQuery as Struct<unknown, unknown>),
          responses: {
            200: {
              ...jsonResponse(
                'a page; nextCursor is null on the last one',
                {
                  type: 'object',
                  required: ['items', 'nextCursor'],
                  properties: {
                    items: { type: 'array', items: { $ref: '#/components/schemas/Product' } },
                    nextCursor: { type: ['string', 'null'] },
                  },
                },
                { items: [productExample], nextCursor: null },
              ),
              links: {
                NextPage: {
                  operationId: 'listProducts',
                  parameters: { cursor: '$response.body#/nextCursor' },
                  description: 'the next page: the same filters and sort, with this cursor',
                },
              },
            },
            422: problemResponse('an invalid, repeated or unknown parameter; a cursor of another query or expired', [
              validationExample('/limit', 'Expected a number less than or equal to 100 but received `500`'),
              validationExample('/cursor', 'is not a cursor this service issued'),
            ]),
            503: unavailable('the views database does not answer, or too many lists are running'),
          },
        },
      },
      '/products/{id}/price-history': {
        get: {
          operationId: 'priceHistory',
          summary: 'Every price the product had, oldest first',
          tags: ['products'],
          parameters: [idParameter],
          responses: {
            200: jsonResponse(
              'the history',
              {
                type: 'object',
                required: ['items'],
                properties: {
                  items: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['price', 'version', 'changedAt'],
                      properties: {
                        price: money,
                        version: { type: 'integer', minimum: 1 },
                        changedAt: { type: 'string', format: 'date-time' },
                      },
                    },
                  },
                },
              },
              {
                items: [
                  { price: { amount: 1999, currency: 'EUR' }, version: 1, changedAt: '2026-11-30T08:00:00.000Z' },
                ],
              },
            ),
            404: notFound,
            422: invalid('the id is not a UUID, or a query parameter was given', '/id', 'must be a UUID'),
            503: unavailable('the views database does not answer, or too many reads by id wait for it'),
          },
        },
      },
      '/stats': {
        get: {
          operationId: 'catalogStats',
          summary: 'Catalog totals; stock units and inventory value (minor units) count active products',
          tags: ['products'],
          responses: {
            200: jsonResponse('the totals', stats, {
              activeProducts: 1,
              discontinuedProducts: 0,
              stockUnits: 10,
              inventoryValue: { EUR: 19990 },
            }),
            422: unknownParameter,
            503: unavailable('the views database does not answer'),
          },
        },
      },
      '/projections': {
        get: {
          operationId: 'projectionProgress',
          summary:
            'Per partition: committed offset, end offset, lag, last event time; where this process owns it, its actor state, pause reason and parked events (gaps: count, oldest, stale)',
          tags: ['operations'],
          responses: {
            200: jsonResponse('the progress', projections, {
              topic: 'product-events',
              consumerGroup: 'catalog-projections',
              generation: 1,
              totalLag: 0,
              partitions: [
                {
                  partition: 0,
                  committedOffset: 42,
                  endOffset: 42,
                  lag: 0,
                  lastEventAt: '2026-11-30T08:00:00.000Z',
                  ownedHere: true,
                  state: 'idle',
                  pausedReason: null,
                },
              ],
            }),
            422: unknownParameter,
            503: unavailable('the views database or Kafka does not answer'),
          },
        },
      },
      '/admin/rebuild': {
        post: {
          operationId: 'startRebuild',
          summary: 'Rebuild every view from the event store into new collections, catch up from the topic, then switch',
          tags: ['operations'],
          security: [{ adminBearer: [] }],
          responses: {
            202: jsonResponse(
              'started; Location is where its progress is',
              {
                type: 'object',
                required: ['generation', 'status'],
                properties: { generation: { type: 'integer' }, status: { type: 'string' } },
              },
              { generation: 2, status: '/admin/rebuild' },
              { Location: header('/admin/rebuild') },
            ),
            401: adminUnauthorized,
            409: problemResponse('a rebuild is running', [
              { code: 'version-conflict', detail: 'a rebuild is already running' },
            ]),
            422: unknownParameter,
            503: unavailable('the event store or the views database does not answer'),
          },
        },
        get: {
          operationId: 'rebuildProgress',
          summary: 'Progress of the last rebuild started by this process',
          tags: ['operations'],
          security: [{ adminBearer: [] }],
          responses: {
            200: jsonResponse(
              'phase, events read of those counted, rate, ETA, handover',
              { type: 'object', required: ['generation', 'phase'] },
              { generation: 2, phase: 'reading', percent: 40 },
            ),
            401: adminUnauthorized,
            404: problemResponse('this process has not started a rebuild', [
              { code: 'not-found', detail: 'this process has not started a rebuild' },
            ]),
            422: unknownParameter,
          },
        },
      },
      ...healthPaths('MongoDB and Kafka answer and the projection has joined its group', {
        mongodb: 'ok',
        kafka: 'ok',
        projection: 'ok',
      }),
      ...consolePaths,
    },
  };
}

export function docsRoutes(): Hono {
  const app = new Hono();
  const document = queryOpenApi();
  app.get('/openapi.json', (c) => c.json(document));
  app.route('/', scalarDocs('cqrs-catalog query service'));
  return app;
}

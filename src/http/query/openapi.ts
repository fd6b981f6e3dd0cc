import { Hono } from 'hono';
import { is, type Struct } from 'superstruct';
import { LIST_WALK_BUDGET } from '../../projections/views/products/list-rules.ts';
import { docsPage } from '../openapi/docs-page.ts';
import { toJsonSchema } from '../openapi/json-schema.ts';
import { consolePaths, consoleSchemas, consoleSecuritySchemes } from './openapi-console.ts';
import { listQueryFields, ProductQuery } from './params.ts';

type Json = Record<string, unknown>;

const queryParameters = (struct: Struct<unknown, unknown>): Json[] =>
  Object.entries(struct.schema as Record<string, Struct<unknown, unknown>>).map(([name, field]) => {
    const { description, ...schema } = toJsonSchema(field);
    return { name, in: 'query', required: !is(undefined, field), schema, ...(description ? { description } : {}) };
  });

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

const money = {
  type: 'object',
  properties: { amount: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
  required: ['amount', 'currency'],
};

const product = {
  type: 'object',
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

const json = (description: string, schema: Json = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { type: 'object' } } },
});

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
      version: '1',
      description:
        'Reads of the product catalog views. Views are eventually consistent; a read may wait for a version ' +
        'with minVersion. Lists paginate over one snapshot of the catalog: every page shows products as they ' +
        'were when the first page was served.',
    },
    paths: {
      '/products/{id}': {
        get: {
          summary: 'One product; ETag is its version, If-None-Match answers 304',
          parameters: [idParameter, ...queryParameters(ProductQuery as Struct<unknown, unknown>)],
          responses: {
            200: json('the product', product),
            304: { description: 'If-None-Match matched the current version' },
            404: problem('unknown product'),
            422: problem('invalid id or query parameter'),
            503: problem('minVersion not reached within maxWaitMs (Retry-After, currentVersion), or MongoDB down'),
          },
        },
      },
      '/products': {
        get: {
          summary: 'Products, filtered and sorted, a page at a time',
          description: LIST_DESCRIPTION,
          parameters: queryParameters(listQueryFields as Struct<unknown, unknown>),
          responses: {
            200: json('a page', {
              type: 'object',
              properties: { items: { type: 'array', items: product }, nextCursor: { type: ['string', 'null'] } },
            }),
            422: problem('invalid, repeated or unknown parameter; cursor of another query or expired'),
          },
        },
      },
      '/products/{id}/price-history': {
        get: {
          summary: 'Every price the product had, oldest first',
          parameters: [idParameter],
          responses: {
            200: json('the history', {
              type: 'object',
              properties: {
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      price: money,
                      version: { type: 'integer' },
                      changedAt: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            }),
            404: problem('unknown product'),
          },
        },
      },
      '/stats': {
        get: {
          summary: 'Catalog totals; stock units and inventory value (minor units) count active products',
          responses: { 200: json('totals') },
        },
      },
      '/projections': {
        get: {
          summary:
            'Per partition: committed offset, end offset, lag, last event time; where this process owns it, its actor state, pause reason and parked events (gaps: count, oldest, stale)',
          responses: { 200: json('projection progress') },
        },
      },
      '/admin/rebuild': {
        post: {
          summary:
            'Rebuild every view from the event store into new collections, catch up from the topic, then switch (bearer token)',
          responses: {
            202: json('started'),
            401: problem('missing or bad admin token'),
            409: problem('one is running'),
          },
        },
        get: {
          summary: 'Progress of the last rebuild started by this process (bearer token)',
          responses: {
            200: json('progress', { $ref: '#/components/schemas/RebuildProgress' }),
            401: problem('missing or bad admin token'),
            404: problem('none'),
          },
        },
      },
      '/health/live': { get: { summary: 'The process runs', responses: { 200: json('ok') } } },
      '/health/ready': {
        get: {
          summary: 'MongoDB and Kafka answer and the projection has joined its group',
          responses: { 200: json('ready'), 503: json('not ready') },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition' } } } },
      ...consolePaths,
    },
    components: { schemas: consoleSchemas, securitySchemes: consoleSecuritySchemes },
  };
}

export function docsRoutes(): Hono {
  const app = new Hono();
  const document = queryOpenApi();
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) => c.html(docsPage('cqrs-catalog query service')));
  return app;
}

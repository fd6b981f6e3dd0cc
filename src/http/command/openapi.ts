import { type AnyStruct, toJsonSchema } from '../openapi/json-schema.ts';
import { PROBLEM_BASE, PROBLEMS } from '../problem.ts';
import { ChangePriceBody, CreateProductBody, ReservationBody, RestockBody, UpdateDetailsBody } from './schemas.ts';
import { KEY_REQUIRED_DETAIL, KEY_REQUIRED_LINK } from './write-pipeline.ts';

const problem = (description: string) => ({ description, content: { 'application/problem+json': {} } });
const ok = (description: string) => ({ description, content: { 'application/json': {} } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const idempotencyKey = (required: boolean) => ({
  name: 'Idempotency-Key',
  in: 'header',
  required,
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
  description: required
    ? 'required (400 idempotency-key-required without it): a retried restock or reservation would otherwise ' +
      'apply twice. Replays return the original answer'
    : 'replays return the original answer',
});
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: '"<version>": apply only at this version, else 412',
};
const body = (schema: AnyStruct) => ({
  required: true,
  content: { 'application/json': { schema: toJsonSchema(schema) } },
});
const errors = {
  400: problem(PROBLEMS['invalid-json'].title),
  401: problem(PROBLEMS.unauthorized.title),
  409: problem(
    'business rule: sku-taken, insufficient-stock, product-discontinued, already-exists, nothing-to-change; or idempotency key in flight',
  ),
  412: problem(PROBLEMS['precondition-failed'].title),
  413: problem(PROBLEMS['payload-too-large'].title),
  415: problem(PROBLEMS['unsupported-media-type'].title),
  422: problem('schema violation, or Idempotency-Key reused with another body'),
  503: problem(PROBLEMS['service-unavailable'].title),
};
/** The 400 of a write that requires an Idempotency-Key: unparseable JSON, or no key. */
const keyRequired400 = {
  description: 'invalid-json: the body is not valid JSON; idempotency-key-required: no Idempotency-Key header',
  headers: {
    Link: {
      description: `with idempotency-key-required: \`${KEY_REQUIRED_LINK}\``,
      schema: { type: 'string' },
    },
  },
  content: {
    'application/problem+json': {
      examples: {
        'idempotency-key-required': {
          summary: 'no Idempotency-Key header',
          value: {
            type: `${PROBLEM_BASE}idempotency-key-required`,
            title: PROBLEMS['idempotency-key-required'].title,
            status: 400,
            detail: KEY_REQUIRED_DETAIL,
            instance: '/products/0b9f6a52-3c4d-4e5f-8a7b-9c0d1e2f3a4b/stock/restock',
            errors: [{ path: '/headers/idempotency-key', message: 'is required' }],
          },
        },
      },
    },
  },
};
const write = (
  summary: string,
  schema: AnyStruct | undefined,
  success: Record<string, unknown>,
  { withId = true, keyRequired = false } = {},
) => ({
  summary,
  security: [{ bearer: [] }],
  parameters: [...(withId ? [idParam] : []), idempotencyKey(keyRequired), ifMatch],
  ...(schema ? { requestBody: body(schema) } : {}),
  responses: {
    ...success,
    ...(withId ? { 404: problem('unknown product') } : {}),
    ...errors,
    ...(keyRequired ? { 400: keyRequired400 } : {}),
  },
});

/** The command service's OpenAPI 3.1 document, built from the same schemas that validate requests. */
export const commandOpenApi = {
  openapi: '3.1.0',
  info: { title: 'cqrs-catalog command API', version: '1.0.0' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/products': {
      post: write(
        'Create a product',
        CreateProductBody,
        { 201: ok('{id, version}, Location header') },
        { withId: false },
      ),
    },
    '/products/{id}': {
      patch: write('Update name and/or description', UpdateDetailsBody, { 200: ok('{id, version}') }),
      delete: write('Discontinue a product', undefined, { 200: ok('{id, version}') }),
    },
    '/products/{id}/price': { put: write('Change the price', ChangePriceBody, { 200: ok('{id, version}') }) },
    '/products/{id}/stock/restock': {
      post: write('Add stock', RestockBody, { 200: ok('{id, version, stock}') }, { keyRequired: true }),
    },
    '/products/{id}/stock/reservations': {
      post: write(
        'Reserve stock',
        ReservationBody,
        { 201: ok('{id, version, stock, reservationId}') },
        { keyRequired: true },
      ),
    },
    '/products/{id}/events': {
      get: {
        summary: "The product's events from the event store",
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: { 200: ok('{items: [envelope...]}'), 401: errors[401], 404: problem('unknown product') },
      },
    },
    '/health/live': { get: { summary: 'Liveness', responses: { 200: ok('alive') } } },
    '/health/ready': {
      get: { summary: 'Readiness (PostgreSQL answers)', responses: { 200: ok('ready'), 503: ok('not ready') } },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } },
    },
  },
};

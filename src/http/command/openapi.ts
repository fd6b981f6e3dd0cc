import { type AnyStruct, toJsonSchema } from '../openapi/json-schema.ts';
import { PROBLEMS } from '../problem.ts';
import { ChangePriceBody, CreateProductBody, ReservationBody, RestockBody, UpdateDetailsBody } from './schemas.ts';

const problem = (description: string) => ({ description, content: { 'application/problem+json': {} } });
const ok = (description: string) => ({ description, content: { 'application/json': {} } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const headers = [
  { name: 'Idempotency-Key', in: 'header', required: false, description: 'replays return the original answer' },
  { name: 'If-Match', in: 'header', required: false, description: '"<version>": apply only at this version, else 412' },
];
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
const write = (summary: string, schema: AnyStruct | undefined, success: Record<string, unknown>, withId = true) => ({
  summary,
  security: [{ bearer: [] }],
  parameters: [...(withId ? [idParam] : []), ...headers],
  ...(schema ? { requestBody: body(schema) } : {}),
  responses: { ...success, ...(withId ? { 404: problem('unknown product') } : {}), ...errors },
});

/** The command service's OpenAPI 3.1 document, built from the same schemas that validate requests. */
export const commandOpenApi = {
  openapi: '3.1.0',
  info: { title: 'cqrs-catalog command API', version: '1.0.0' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/products': {
      post: write('Create a product', CreateProductBody, { 201: ok('{id, version}, Location header') }, false),
    },
    '/products/{id}': {
      patch: write('Update name and/or description', UpdateDetailsBody, { 200: ok('{id, version}') }),
      delete: write('Discontinue a product', undefined, { 200: ok('{id, version}') }),
    },
    '/products/{id}/price': { put: write('Change the price', ChangePriceBody, { 200: ok('{id, version}') }) },
    '/products/{id}/stock/restock': { post: write('Add stock', RestockBody, { 200: ok('{id, version, stock}') }) },
    '/products/{id}/stock/reservations': {
      post: write('Reserve stock', ReservationBody, { 201: ok('{id, version, stock, reservationId}') }),
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

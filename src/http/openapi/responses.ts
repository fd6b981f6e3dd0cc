import { PROBLEM_BASE, PROBLEMS, type ProblemCode } from '../problem.ts';

/**
 * Building blocks of both services' OpenAPI documents: the problem+json schema, responses with
 * examples built from the one table of problems (`PROBLEMS`), so a documented example has the
 * title and status the service really answers with.
 */

type Json = Record<string, unknown>;

export const EXAMPLE_ID = '0b9f6a52-3c4d-4e5f-8a7b-9c0d1e2f3a4b';

export const problemSchema: Json = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', description: `${PROBLEM_BASE}<code>` },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'validation failures, one per field (a JSON Pointer into the body, query, path or headers)',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    currentVersion: {
      type: 'integer',
      minimum: 0,
      description: "with 412 and a minVersion 503: the product's version",
    },
  },
};

export const header = (description: string, schema: Json = { type: 'string' }, required = true): Json => ({
  description,
  required,
  schema,
});

/** Every 503 says when to come back. */
export const retryAfter = header('seconds to wait before retrying', { type: 'string', pattern: '^\\d+$' });

export interface ProblemExample {
  code: ProblemCode;
  detail: string;
  extra?: Json;
}

/** A problem+json response: its examples, one per problem code, are what the service answers. */
export function problemResponse(description: string, examples: ProblemExample[], headers: Json = {}): Json {
  const status = PROBLEMS[examples[0]?.code ?? 'internal-error'].status;
  return {
    description,
    ...(status === 503
      ? { headers: { 'Retry-After': retryAfter, ...headers } }
      : Object.keys(headers).length
        ? { headers }
        : {}),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: Object.fromEntries(
          examples.map(({ code, detail, extra }) => [
            code,
            {
              summary: PROBLEMS[code].title,
              value: {
                type: `${PROBLEM_BASE}${code}`,
                title: PROBLEMS[code].title,
                status: PROBLEMS[code].status,
                detail,
                instance: `/products/${EXAMPLE_ID}`,
                ...extra,
              },
            },
          ]),
        ),
      },
    },
  };
}

/** A JSON response with its schema and one example. */
export const jsonResponse = (description: string, schema: Json, example: unknown, headers: Json = {}): Json => ({
  description,
  ...(Object.keys(headers).length ? { headers } : {}),
  content: { 'application/json': { schema, example } },
});

export const validationExample = (path: string, message: string): ProblemExample => ({
  code: 'validation-failed',
  detail: 'the request has 1 invalid field(s)',
  extra: { errors: [{ path, message }] },
});

/** 405 for a method the path does not have; `Allow` lists those it has. */
export const methodNotAllowedResponse: Json = problemResponse(
  'the path does not have this method; Allow lists the methods it has',
  [{ code: 'method-not-allowed', detail: 'PUT is not allowed on /products; allowed: POST' }],
  { Allow: header('the methods the path has', { type: 'string' }) },
);

const healthBody = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['live', 'ready', 'not-ready'] },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** /health/live, /health/ready and /metrics, the same on both services. */
export const healthPaths = (readyWhen: string, checks: Record<string, string>): Json => ({
  '/health/live': {
    get: {
      operationId: 'live',
      summary: 'The process answers',
      tags: ['operations'],
      responses: { 200: jsonResponse('alive', healthBody, { status: 'live' }) },
    },
  },
  '/health/ready': {
    get: {
      operationId: 'ready',
      summary: `Ready: ${readyWhen}`,
      tags: ['operations'],
      responses: {
        200: jsonResponse('every check answered', healthBody, { status: 'ready', checks }),
        503: jsonResponse(
          'a check failed; its entry says why',
          healthBody,
          {
            status: 'not-ready',
            checks: Object.fromEntries(Object.keys(checks).map((name, i) => [name, i === 0 ? 'unavailable' : 'ok'])),
          },
          { 'Retry-After': retryAfter },
        ),
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: ['operations'],
      responses: {
        200: {
          description: 'Prometheus text exposition format',
          content: { 'text/plain': { schema: { type: 'string' }, example: 'http_requests_total{...} 42\n' } },
        },
      },
    },
  },
});

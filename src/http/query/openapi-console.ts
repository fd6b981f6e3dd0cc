import { toJsonSchema } from '../openapi/json-schema.ts';
import { RedriveByReason } from './dead-letter-routes.ts';

/**
 * The OpenAPI description of the operations console's routes: the page, its live stream (each
 * event's data under `components.schemas`) and the dead-letter admin routes.
 */

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Json) => ({ oneOf: [schema, { type: 'null' }] });
const integer = { type: 'integer', minimum: 0 };
const text = { type: 'string' };
const time = { type: 'string', format: 'date-time' };
const object = (properties: Record<string, unknown>): Json => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
});

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { type: 'object' } } },
});
const json = (description: string, schema: Json) => ({ description, content: { 'application/json': { schema } } });
const adminBearer = [{ adminBearer: [] }];

const PARTITION_STATES = ['starting', 'running', 'paused', 'stopped'];
const REBUILD_PHASES = ['counting', 'reading', 'writing', 'catching-up', 'switching', 'done', 'failed'];

export const consoleSchemas: Record<string, Json> = {
  OperationsStatus: {
    ...object({
      at: time,
      serviceStartedAt: time,
      topic: text,
      consumerGroup: text,
      generation: { type: 'integer', minimum: 1 },
      totalLag: integer,
      rates: object({
        publishedPerSecond: nullable({ type: 'number', minimum: 0 }),
        projectedPerSecond: nullable({ type: 'number', minimum: 0 }),
      }),
      partitions: {
        type: 'array',
        items: object({
          partition: integer,
          committedOffset: nullable(integer),
          endOffset: integer,
          lag: integer,
          lastEventAt: nullable(time),
          ownedHere: { type: 'boolean' },
          state: nullable({ type: 'string', enum: PARTITION_STATES }),
          pausedReason: nullable(text),
          parked: nullable(integer),
          gaps: nullable(
            object({
              count: integer,
              oldestParkedAt: nullable(time),
              stale: integer,
            }),
          ),
        }),
      },
      parked: object({
        count: integer,
        longest: {
          type: 'array',
          items: object({
            partition: integer,
            aggregateId: text,
            version: integer,
            offset: integer,
            parkedAt: time,
            ageSeconds: integer,
          }),
        },
      }),
      rebuild: nullable(ref('RebuildProgress')),
    }),
    description: 'data of a `status` event: the consumer group over every partition, sampled once a second',
  },
  ChartHistory: {
    ...object({
      windowSeconds: integer,
      points: {
        type: 'array',
        items: object({
          at: time,
          totalLag: integer,
          publishedPerSecond: nullable({ type: 'number' }),
          projectedPerSecond: nullable({ type: 'number' }),
          lags: { type: 'array', items: integer, description: 'lag per partition, indexed by partition' },
        }),
      },
    }),
    description: 'data of the `history` event a stream opens with: the charts of the last minutes',
  },
  DeadLetter: object({
    partition: { ...integer, description: 'partition of the dead-letter topic' },
    offset: { ...integer, description: 'offset in the dead-letter topic' },
    reason: text,
    detail: text,
    sourceTopic: nullable(text),
    sourcePartition: nullable(integer),
    sourceOffset: nullable(integer),
    consumerGroup: nullable(text),
    failedAt: nullable(time),
    key: nullable(text),
    eventType: nullable(text),
    aggregateId: nullable(text),
    version: nullable(integer),
    value: { ...text, description: 'the record value as text, cut at 4,000 characters' },
    valueTruncated: { type: 'boolean' },
    redrivenAt: nullable(time),
  }),
  DeadLetters: {
    ...object({
      ready: { type: 'boolean', description: 'false until the dead-letter topic has been read' },
      perPartition: { ...integer, description: 'latest records held per partition of the dead-letter topic' },
      held: integer,
      byReason: { type: 'object', additionalProperties: integer },
      letters: { type: 'array', items: ref('DeadLetter'), description: 'newest first' },
    }),
    description: 'data of a `dead-letters` event (the 50 newest), and the answer of GET /admin/dead-letters (all held)',
  },
  RedriveResult: object({
    redriven: {
      type: 'array',
      items: object({
        partition: integer,
        offset: integer,
        reason: text,
        key: nullable(text),
        aggregateId: nullable(text),
        version: nullable(integer),
      }),
    },
  }),
  RebuildProgress: object({
    generation: integer,
    phase: { type: 'string', enum: REBUILD_PHASES },
    startedAt: time,
    finishedAt: nullable(time),
    totalEvents: integer,
    eventsRead: integer,
    percent: { type: 'integer', minimum: 0, maximum: 100 },
    eventsPerSecond: integer,
    products: integer,
    productsWritten: integer,
    priceHistoryWritten: integer,
    documentsPerSecond: integer,
    skipped: integer,
    etaSeconds: nullable(integer),
    partitions: {
      type: 'array',
      items: object({ partition: integer, handover: integer, offset: integer, target: integer }),
    },
    caughtUp: integer,
    error: nullable(text),
  }),
};

export const consoleSecuritySchemes = {
  adminBearer: { type: 'http', scheme: 'bearer', description: 'a token of ADMIN_API_TOKENS' },
};

const redriveResponses = {
  200: json('the dead letters published back to the event topic', ref('RedriveResult')),
  401: problem('missing or bad admin token'),
  503: problem('the dead-letter topic is still being read (Retry-After)'),
};

const staticFile = (operationId: string, summary: string, type: string) => ({
  get: {
    operationId,
    tags: ['operations'],
    summary,
    responses: {
      200: { description: 'the file', content: { [type]: { schema: { type: 'string' } } } },
      304: { description: 'If-None-Match matched the ETag' },
      422: problem('a query parameter was given'),
    },
  },
});

export const consolePaths: Record<string, Json> = {
  '/console': staticFile(
    'consolePage',
    'The operations console (public, like every read); actions need the admin token',
    'text/html',
  ),
  '/console/console.js': staticFile('consoleScript', "The console's script", 'text/javascript'),
  '/console/console.css': staticFile('consoleStylesheet', "The console's stylesheet", 'text/css'),
  '/projections/stream': {
    get: {
      operationId: 'projectionStream',
      tags: ['operations'],
      summary: 'Live projection status for the console, as Server-Sent Events',
      description:
        'Opens with `retry:`, then a `history` event (ChartHistory), the last `status` (OperationsStatus) and ' +
        '`dead-letters` (DeadLetters). Then a `status` event (with an id) once a second, `dead-letters` when ' +
        'they change, and `unavailable` ({at, detail}) when the status cannot be read. The stream does not end; ' +
        'a client that falls behind is dropped and reconnects.',
      responses: {
        200: {
          description: 'an endless stream of events',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        422: problem('a query parameter was given'),
        503: problem('too many streams are open (Retry-After)'),
      },
    },
  },
  '/admin/dead-letters': {
    get: {
      operationId: 'listDeadLetters',
      tags: ['operations'],
      summary: 'The latest records of each partition of the dead-letter topic (bearer token)',
      security: adminBearer,
      responses: {
        200: json('the dead letters held, newest first', ref('DeadLetters')),
        401: problem('missing or bad admin token'),
        422: problem('a query parameter was given'),
        503: problem('the dead-letter topic is still being read (Retry-After)'),
      },
    },
  },
  '/admin/dead-letters/{partition}/{offset}/redrive': {
    post: {
      operationId: 'redriveDeadLetter',
      tags: ['operations'],
      summary:
        "Publish one dead letter back to the event topic, keyed by its product id, through the projection's version guard (bearer token)",
      security: adminBearer,
      parameters: [
        { name: 'partition', in: 'path', required: true, schema: integer, description: 'of the dead-letter topic' },
        { name: 'offset', in: 'path', required: true, schema: integer, description: 'in the dead-letter topic' },
      ],
      responses: {
        ...redriveResponses,
        404: problem('no such dead letter among the latest held of its partition'),
        422: problem('partition or offset is not a whole number'),
      },
    },
  },
  '/admin/dead-letters/redrive': {
    post: {
      operationId: 'redriveDeadLettersByReason',
      tags: ['operations'],
      summary:
        'Publish every dead letter held with one reason back to the event topic, each distinct record once (bearer token)',
      security: adminBearer,
      requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(RedriveByReason) } } },
      responses: {
        ...redriveResponses,
        400: problem('the body is not JSON'),
        413: problem('the body is over 64 KiB'),
        415: problem('the body is not application/json'),
        422: problem('unknown reason or other fields'),
      },
    },
  },
};

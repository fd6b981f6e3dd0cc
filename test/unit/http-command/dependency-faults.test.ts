import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Hono } from 'hono';
import pino from 'pino';
import { commandApp } from '../../../src/http/command/app.ts';
import { healthRoutes, NotReady } from '../../../src/http/health.ts';
import { correlationId } from '../../../src/http/middleware/correlation-id.ts';
import { ProblemError, problemHandler } from '../../../src/http/problem.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';
import { postgres } from '../../../src/infra/postgres.ts';

/**
 * Database faults seen by the command service's HTTP thread (an event store read, a readiness
 * check) answer 503 with Retry-After, never 500, and the dependency's error text goes to the log
 * with the request's correlation id, never to the client.
 */

const token = 'unit-test-token-0123456789';
const productId = '0190a6d2-3c4f-7a8b-9c0d-1e2f3a4b5c6d';

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

const connectionClosed = () =>
  Object.assign(new Error('write CONNECTION_CLOSED 10.1.2.3:5432'), { code: 'CONNECTION_CLOSED' });
const pgError = (code: string, message: string) => new postgres.PostgresError({ code, message } as never);

const faults: [string, () => Error][] = [
  ['a closed connection', connectionClosed],
  [
    'a refused connection',
    () => Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' }),
  ],
  [
    'an unreachable database',
    () => Object.assign(new Error('PostgreSQL is unreachable'), { code: 'DATABASE_UNREACHABLE' }),
  ],
  ['a terminated backend', () => pgError('57P01', 'terminating connection due to administrator command')],
  ['a statement timeout', () => pgError('57014', 'canceling statement due to statement timeout')],
  ['a lock timeout', () => pgError('55P03', 'canceling statement due to lock timeout')],
  ['too many connections', () => pgError('53300', 'sorry, too many clients already')],
  ['a read-only server after a failover', () => pgError('25006', 'cannot execute INSERT in a read-only transaction')],
  [
    'a connection error wrapped by a caller',
    () => new Error('loading the product failed', { cause: connectionClosed() }),
  ],
];

for (const [name, fault] of faults) {
  test(`GET /products/{id}/events meeting ${name}: 503 with Retry-After, the error logged with the correlation id`, async () => {
    const { logger, lines } = capturingLogger();
    const error = fault();
    const app = commandApp({
      tokens: [token],
      logger,
      registry: createRegistry('test'),
      readiness: {},
      dispatch: () => Promise.reject(new Error('not used')),
      readEvents: () => Promise.reject(error),
    });
    const res = await app.request(`/products/${productId}/events`, {
      headers: { authorization: `Bearer ${token}`, 'x-correlation-id': 'fault-test-1' },
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.type, '/problems/service-unavailable');
    assert.ok(!body.detail?.includes(error.message), `the detail names no dependency error: ${body.detail}`);
    assert.doesNotMatch(JSON.stringify(body), /10\.1\.2\.3|CONNECTION_|ECONN|canceling|terminating|clients/);
    const logged = lines.find((line) => line.correlationId === 'fault-test-1');
    assert.ok(logged, 'the fault is logged with the correlation id');
    assert.match(JSON.stringify(logged.err), new RegExp(error.message.slice(0, 20)));
  });
}

test('any other error is still a 500 with a generic detail', async () => {
  const { logger, lines } = capturingLogger();
  const app = commandApp({
    tokens: [token],
    logger,
    registry: createRegistry('test'),
    readiness: {},
    dispatch: () => Promise.reject(new Error('not used')),
    readEvents: () => Promise.reject(pgError('42P01', 'relation "events" does not exist')),
  });
  const res = await app.request(`/products/${productId}/events`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 500);
  assert.doesNotMatch(await res.text(), /does not exist/);
  assert.equal(lines.length, 1);
});

test('a 503 problem always carries Retry-After', async () => {
  const app = new Hono();
  app.onError(problemHandler(() => pino({ level: 'silent' })));
  app.get('/', () => {
    throw new ProblemError('service-unavailable', 'busy');
  });
  const res = await app.request('/');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
});

test('/health/ready: a failing dependency shows as "unavailable" (logged with the correlation id), a NotReady with its own words', async () => {
  const { logger, lines } = capturingLogger();
  const app = new Hono();
  app.use(correlationId(logger));
  app.route(
    '/',
    healthRoutes({
      registry: createRegistry('test'),
      checks: {
        postgres: () => Promise.reject(connectionClosed()),
        schema: () => Promise.reject(new NotReady('schema not migrated yet')),
        kafka: async () => {},
      },
    }),
  );
  const res = await app.request('/health/ready', { headers: { 'x-correlation-id': 'probe-1' } });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  assert.deepEqual(await res.json(), {
    status: 'not-ready',
    checks: { postgres: 'unavailable', schema: 'schema not migrated yet', kafka: 'ok' },
  });
  const logged = lines.find((line) => line.correlationId === 'probe-1' && line.check === 'postgres');
  assert.ok(logged);
  assert.match(JSON.stringify(logged.err), /CONNECTION_CLOSED/);
});

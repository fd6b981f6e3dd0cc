import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { problemHandler } from '../../../src/http/problem.ts';
import { adminAuth } from '../../../src/http/query/admin-routes.ts';
import { consoleRoutes } from '../../../src/http/query/console-routes.ts';
import { deadLetterRoutes } from '../../../src/http/query/dead-letter-routes.ts';
import { type DeadLetterSource, OperationsFeed } from '../../../src/http/query/operations-feed.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';
import { createProjectionMetrics } from '../../../src/projections/metrics.ts';
import { OperationsMonitor } from '../../../src/projections/operations/monitor.ts';
import { Redriver } from '../../../src/projections/operations/redrive.ts';

const logger = createLogger('test', 'silent');
const TOKEN = 'unit-test-admin-token';

function build(options: { maxStreams?: number; ready?: boolean } = {}) {
  const registry = createRegistry('test');
  const letters: DeadLetterSource & { find: () => undefined; letters: () => []; markRedriven: () => void } = {
    ensureStarted: () => {},
    ready: options.ready ?? true,
    version: 0,
    perPartition: 50,
    views: () => [],
    find: () => undefined,
    letters: () => [],
    markRedriven: () => {},
  };
  const monitor = new OperationsMonitor(
    {
      status: async () => ({
        topic: 't',
        consumerGroup: 'g.g1',
        generation: 1,
        totalLag: 0,
        partitions: [],
      }),
      local: () => [],
      rebuild: () => null,
      startedAt: new Date(0),
    },
    60_000,
  );
  const feed = new OperationsFeed(
    { monitor, deadLetters: letters, registry, logger },
    {
      watchedIntervalMs: 1000,
      idleIntervalMs: 5000,
      retryMs: 2000,
      maxStreams: options.maxStreams ?? 10,
      maxQueuedBytes: 64 * 1024,
      lettersShown: 50,
    },
  );
  const redriver = new Redriver({
    publish: async () => {
      throw new Error('no dead letter is held, so nothing may be published');
    },
    topic: 't',
    tail: letters,
    redrives: createProjectionMetrics(registry).redrives,
    logger,
  });
  const app = new Hono();
  app.route('/', consoleRoutes({ feed }));
  app.use('/admin/*', adminAuth([TOKEN]));
  app.route('/', deadLetterRoutes({ deadLetters: letters, redriver }));
  app.onError(problemHandler(() => logger));
  return { app, feed };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('console routes', () => {
  test('the page and its files are served as written, under a policy that runs only them', async () => {
    const { app } = build();
    const page = await app.request('/console');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const policy = page.headers.get('content-security-policy') ?? '';
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/console\/console.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    const script = await app.request('/console/console.js');
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    const source = await script.text();
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    const etag = script.headers.get('etag') ?? '';
    assert.equal((await app.request('/console/console.js', { headers: { 'if-none-match': etag } })).status, 304);
    assert.match((await app.request('/console/console.css')).headers.get('content-type') ?? '', /^text\/css/);
  });

  test('the stream opens with retry, history and dead letters, and refuses streams past the limit', async () => {
    const { app, feed } = build({ maxStreams: 1 });
    const stream = await app.request('/projections/stream');
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = stream.body?.getReader();
    assert.ok(reader);
    let text = '';
    while (!text.includes('event: dead-letters')) text += new TextDecoder().decode((await reader.read()).value);
    assert.match(text, /^retry: 2000\n\nevent: history\ndata: \{"windowSeconds":60,"points":\[\]\}\n\n/);
    const refused = await app.request('/projections/stream');
    assert.equal(refused.status, 503);
    assert.ok(refused.headers.get('retry-after'));
    feed.stop();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    assert.equal((await app.request('/projections/stream?x=1')).status, 422);
  });
});

describe('dead-letter routes', () => {
  test('need the admin token', async () => {
    const { app } = build();
    assert.equal((await app.request('/admin/dead-letters')).status, 401);
    const wrong = await app.request('/admin/dead-letters/0/1/redrive', {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
  });

  test('validate what they are given and say when a dead letter is not held', async () => {
    const { app } = build();
    const listed = await app.request('/admin/dead-letters', { headers: auth });
    assert.deepEqual(await listed.json(), { ready: true, perPartition: 50, held: 0, byReason: {}, letters: [] });
    const badPath = await app.request('/admin/dead-letters/x/-1/redrive', { method: 'POST', headers: auth });
    assert.equal(badPath.status, 422);
    assert.deepEqual(
      ((await badPath.json()) as { errors: { path: string }[] }).errors.map((e) => e.path),
      ['/partition', '/offset'],
    );
    const missing = await app.request('/admin/dead-letters/0/9/redrive', { method: 'POST', headers: auth });
    assert.equal(missing.status, 404);
    const notJson = await app.request('/admin/dead-letters/redrive', { method: 'POST', headers: auth, body: 'x' });
    assert.equal(notJson.status, 415);
    const badReason = await app.request('/admin/dead-letters/redrive', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'because' }),
    });
    assert.equal(badReason.status, 422);
    const none = await app.request('/admin/dead-letters/redrive', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'unknown-type' }),
    });
    assert.equal(none.status, 200);
    assert.deepEqual(await none.json(), { redriven: [] });
  });

  test('answer 503 while the dead-letter topic is still being read', async () => {
    const { app } = build({ ready: false });
    const listed = await app.request('/admin/dead-letters', { headers: auth });
    assert.equal(listed.status, 503);
    const redrive = await app.request('/admin/dead-letters/0/1/redrive', { method: 'POST', headers: auth });
    assert.equal(redrive.status, 503);
  });
});

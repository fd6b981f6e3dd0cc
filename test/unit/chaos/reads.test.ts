import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LoadState } from '../../../scripts/chaos/load.ts';
import { ReadLoad, ReadTally } from '../../../scripts/chaos/reads.ts';

test('the readers take turns over every kind of read and judge each answer', async () => {
  const paths = new Set<string>();
  const server = createServer((request, response) => {
    const path = (request.url ?? '').replace(/[0-9a-f-]{36}/, '{id}');
    paths.add(path);
    if (path.endsWith('/price-history')) {
      response.writeHead(503, { 'retry-after': '5' }).end();
    } else if (path.startsWith('/stats')) {
      response.writeHead(500).end();
    } else {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state = new LoadState();
  state.products.push('0b0e7c3c-2f7e-4c39-9a4e-3c1f6b1d2a10');
  const tally = new ReadTally();
  const load = new ReadLoad(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, state, tally, {
    concurrency: 2,
    pauseMs: 1,
    requestTimeoutMs: 2_000,
  });
  // Readers pause 250 ms after a 5xx, so a round of the four kinds takes about half a second.
  for (let waited = 0; waited < 10_000 && (paths.size < 4 || tally.status500 === 0); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await load.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  assert.deepEqual([...paths].sort(), [
    '/products/{id}',
    '/products/{id}/price-history',
    '/products?limit=20&sort=-updatedAt',
    '/stats',
  ]);
  assert.ok(tally.status500 > 0, 'the 500s of /stats');
  assert.ok(tally.status503RetryAfter > 0, 'the 503s of the price history');
  assert.equal(tally.otherFivexx, 0);
  assert.equal(
    tally.sent,
    [...tally.statuses.values()].reduce((a, b) => a + b, 0),
  );
});

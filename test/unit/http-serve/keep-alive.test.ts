import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { close, listen } from '../../../src/http/serve.ts';
import { createLogger } from '../../../src/infra/logger.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const app = new Hono()
  .get('/', (c) => c.text('ok'))
  .get('/slow', async (c) => {
    await sleep(300);
    return c.text('ok');
  });
const logger = createLogger('test', 'silent');

async function serving(keepAliveTimeoutMs: number): Promise<{ server: ServerType; port: number }> {
  const server = await listen(app, { host: '127.0.0.1', port: 0, keepAliveTimeoutMs }, logger);
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

/** Sends one keep-alive request on a raw socket and resolves with the socket once the answer arrived. */
function requestOn(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('data', (chunk) => {
      if (chunk.toString().startsWith('HTTP/1.1 200')) resolve();
      else reject(new Error(`unexpected answer: ${chunk.toString().slice(0, 40)}`));
    });
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
  });
}

/** Whether the server has closed the idle connection within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('end', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// Node keeps a connection a second past keepAliveTimeout (its own margin against the same race), and
// closes it after 6 s by default: a server that ignored the setting fails the second case.
test('an idle keep-alive connection stays open as long as configured, and no longer', async () => {
  for (const [keepAliveTimeoutMs, idleMs, closed] of [
    [3000, 2500, false],
    [300, 2500, true],
  ] as const) {
    const { server, port } = await serving(keepAliveTimeoutMs);
    const socket = connect(port, '127.0.0.1');
    try {
      await requestOn(socket);
      assert.equal(
        await closedWithin(socket, idleMs),
        closed,
        `keep-alive ${keepAliveTimeoutMs} ms, idle ${idleMs} ms`,
      );
      if (!closed) await requestOn(socket);
    } finally {
      socket.destroy();
      await close(server);
    }
  }
});

// A keep-alive connection busy with a request when shutdown begins would otherwise go idle and stay
// open for the whole keep-alive time (75 s by default), holding the process's exit (`close` waits for
// every connection, up to its fallback).
test('a connection busy when the server starts closing gets Connection: close, and close() does not wait for its keep-alive', async () => {
  const { server, port } = await serving(75_000);
  const socket = connect(port, '127.0.0.1');
  try {
    await requestOn(socket);
    const answer = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(chunk.toString())));
    socket.write('GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    await sleep(100);
    const closing = close(server, 60_000).then(() => 'closed');
    const head = (await answer).toLowerCase();
    assert.match(head, /^http\/1\.1 200/);
    assert.match(head, /\r\nconnection: close\r\n/);
    assert.equal(await closedWithin(socket, 5000), true, 'the server ends the connection after the answer');
    assert.equal(await Promise.race([closing, sleep(5000).then(() => 'still waiting')]), 'closed');
  } finally {
    socket.destroy();
    server.close();
  }
});

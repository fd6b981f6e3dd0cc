import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * Baseline (c) of the benchmark: the HTTP ceiling. Every path answers a small JSON at once; bodies
 * are read and parsed, because every real handler pays for that too. The bench sends it exactly
 * the requests it sends the services, so the gap to it is what the domain and storage cost.
 */

const port = Number(process.env.PORT ?? 8091);
const app = new Hono();

app.all('*', async (c) => {
  if (c.req.header('content-length')) await c.req.json();
  return c.json({ ok: true, version: 1 });
});

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  process.stdout.write(`trivial baseline listening on http://127.0.0.1:${port}\n`);
});

const shutdown = () => {
  server.close(() => process.exit(0));
  // A client still holding a keep-alive socket must not keep the baseline alive.
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

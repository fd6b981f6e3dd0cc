import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { serviceUnavailable } from '../problem.ts';
import type { OperationsFeed } from './operations-feed.ts';
import { NoQuery, parseQuery } from './params.ts';

/**
 * The operations console's files, served as written: no build step, nothing from a CDN. The image
 * copies the folder next to the compiled code (Dockerfile.query).
 */
const ASSETS = new URL('./console-assets/', import.meta.url);

interface Asset {
  body: string;
  type: string;
  etag: string;
}

const asset = (name: string, type: string): Asset => {
  const body = readFileSync(new URL(name, ASSETS), 'utf8');
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
};

/**
 * Only the console's own script and stylesheet run; no inline script or style, no other origin, no
 * framing. Even a value that slipped into markup could not execute.
 */
const CONSOLE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

export interface ConsoleRoutesDeps {
  feed: OperationsFeed;
}

/** GET /console (the page, public like every read) and GET /projections/stream (its live data). */
export function consoleRoutes(deps: ConsoleRoutesDeps): Hono {
  const app = new Hono();
  const files: Record<string, Asset> = {
    '/console': asset('console.html', 'text/html; charset=utf-8'),
    '/console/console.js': asset('console.js', 'text/javascript; charset=utf-8'),
    '/console/console.css': asset('console.css', 'text/css; charset=utf-8'),
  };
  for (const [path, file] of Object.entries(files)) {
    app.get(path, (c) => {
      parseQuery(c, NoQuery);
      const headers = { ...CONSOLE_SECURITY_HEADERS, ETag: file.etag };
      if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
      return c.body(file.body, 200, { ...headers, 'Content-Type': file.type });
    });
  }

  app.get('/projections/stream', (c) => {
    parseQuery(c, NoQuery);
    const stream = deps.feed.open();
    if (!stream) throw serviceUnavailable('too many open console streams', 5);
    return new Response(stream, {
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });

  return app;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../infra/logger.ts';
import { endStartUp } from '../infra/start-up-signals.ts';

/**
 * Starts the HTTP server and resolves once it listens. Node closes an idle keep-alive connection
 * after 5 s (plus a second) by default. Node's own clients read that from the Keep-Alive header and
 * stop reusing it sooner; ingress-nginx does not, and reuses its upstream connections for up to 60 s,
 * so a request it sends on one as the service closes it fails with a reset (a 502 to the client). So
 * the server keeps idle connections longer than the proxies in front of it do.
 */
export function listen(
  app: Hono,
  options: { host: string; port: number; keepAliveTimeoutMs: number },
  logger: Logger,
): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (info) => {
      logger.info({ address: `${info.address}:${info.port}` }, 'listening');
      resolve(server);
    });
    if ('keepAliveTimeout' in server) server.keepAliveTimeout = options.keepAliveTimeoutMs;
    drainers.set(server, connectionDrainer(server));
  });
}

/**
 * `server.close()` only closes connections that are idle at that moment. A keep-alive connection
 * busy with a request goes idle afterwards and would stay open for the whole keep-alive time, and
 * shutdown with it. So once draining, every answer still to be written says `Connection: close`,
 * which makes Node close the connection after it and tells the client not to send another on it.
 */
function connectionDrainer(server: ServerType): () => void {
  let draining = false;
  const answering = new Set<ServerResponse>();
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (draining) {
      response.setHeader('connection', 'close');
      return;
    }
    answering.add(response);
    response.once('close', () => answering.delete(response));
  });
  return () => {
    draining = true;
    for (const response of answering) if (!response.headersSent) response.setHeader('connection', 'close');
  };
}

const drainers = new WeakMap<ServerType, () => void>();

/**
 * Stops accepting connections and waits for open requests (bounded, so shutdown cannot hang). Idle
 * connections are closed at once, and again every 100 ms: an answer already on its way as draining
 * began leaves its connection idle but open.
 */
export function close(server: ServerType, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    drainers.get(server)?.();
    const closeIdle = () => {
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    };
    const sweep = setInterval(closeIdle, 100);
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearInterval(sweep);
      clearTimeout(timer);
      resolve();
    }
    server.close(done);
    closeIdle();
  });
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  endStartUp();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

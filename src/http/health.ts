import { Hono } from 'hono';
import type { Logger } from '../infra/logger.ts';
import type { Registry } from '../infra/metrics.ts';

/**
 * A readiness check throws when its dependency does not answer. The body of /health/ready shows
 * the message of a `NotReady`; any other error is logged (with the probe's correlation id) and
 * shown as `unavailable`, since a dependency's error text (addresses, server messages) is not for
 * an open endpoint.
 */
export type ReadinessCheck = () => Promise<unknown>;

/** A readiness failure whose message is the service's own, safe to show. */
export class NotReady extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReady';
  }
}

export interface HealthRoutesDeps {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
}

const CHECK_TIMEOUT_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new NotReady(`no answer within ${ms} ms`)), ms).unref()),
  ]);

/**
 * `/health/live` (the process answers), `/health/ready` (every dependency answers a real check
 * within 2 s; the body names each check's result) and `/metrics` (Prometheus text). Both services
 * mount these, open for probes and scrapers.
 */
export function healthRoutes(deps: HealthRoutesDeps): Hono {
  const app = new Hono();
  app.get('/health/live', (c) => c.json({ status: 'live' }));
  app.get('/health/ready', async (c) => {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          if (error instanceof NotReady) return [name, error.message] as const;
          (c.var.logger as Logger | undefined)?.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result === 'ok');
    if (!ready) c.header('Retry-After', '5');
    return c.json({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(results) }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.text(await deps.registry.metrics(), 200, { 'Content-Type': deps.registry.contentType }),
  );
  return app;
}

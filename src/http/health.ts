import { Hono } from 'hono';
import type { Registry } from '../infra/metrics.ts';

/** A readiness check throws when its dependency does not answer. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthRoutesDeps {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
}

const CHECK_TIMEOUT_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
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
          return [name, (error as Error).message || 'failed'] as const;
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

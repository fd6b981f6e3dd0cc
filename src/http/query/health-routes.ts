import { Hono } from 'hono';
import type { Registry } from '../../infra/metrics.ts';

export type ReadinessCheck = () => Promise<void>;

export interface HealthRoutesDeps {
  registry: Registry;
  /** Each check throws when its dependency does not answer. */
  checks: Record<string, ReadinessCheck>;
}

/** GET /health/live, GET /health/ready (every dependency answers), GET /metrics. */
export function healthRoutes(deps: HealthRoutesDeps): Hono {
  const app = new Hono();

  app.get('/health/live', (c) => c.json({ status: 'live' }));

  app.get('/health/ready', async (c) => {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, (error as Error).message || 'failed'] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result === 'ok');
    return c.json({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(results) }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.registry.contentType);
    return c.body(await deps.registry.metrics());
  });

  return app;
}

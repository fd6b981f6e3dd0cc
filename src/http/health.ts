import { Hono } from 'hono';
import type { Registry } from '../infra/metrics.ts';

export interface DependencyCheck {
  name: string;
  check: () => Promise<unknown>;
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);

/**
 * `/health/live` (the process answers), `/health/ready` (every dependency answers a real check
 * within 2 s) and `/metrics` (Prometheus text). These stay open for probes and scrapers.
 */
export function healthRoutes(dependencies: DependencyCheck[], registry: Registry): Hono {
  const app = new Hono();
  app.get('/health/live', (c) => c.json({ status: 'ok' }));
  app.get('/health/ready', async (c) => {
    const results = await Promise.all(
      dependencies.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2000);
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: (error as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    if (!ready) c.header('Retry-After', '5');
    return c.json({ status: ready ? 'ready' : 'not ready', dependencies: results }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  return app;
}

import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Histogram, type Registry } from '../../infra/metrics.ts';

/** Request rate and latency per route template (never per concrete path: ids would explode cardinality). */
export function requestMetrics(registry: Registry): MiddlewareHandler {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return async function requestMetricsMiddleware(c, next) {
    const start = process.hrtime.bigint();
    await next();
    const route = routePath(c, -1) || 'unmatched';
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    duration.observe({ method: c.req.method, route }, seconds);
  };
}

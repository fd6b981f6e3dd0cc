import { Hono } from 'hono';
import { BulkheadFull } from '../../infra/bulkhead.ts';
import type { Logger } from '../../infra/logger.ts';
import type { Registry } from '../../infra/metrics.ts';
import { isMongoUnavailable, isTimeLimitExceeded } from '../../infra/mongo.ts';
import { type HealthRoutesDeps, healthRoutes } from '../health.ts';
import { correlationId } from '../middleware/correlation-id.ts';
import { requestMetrics } from '../middleware/request-metrics.ts';
import { ProblemError, problemHandler, problemResponse } from '../problem.ts';
import { type AdminRoutesDeps, adminRoutes } from './admin-routes.ts';
import { type CatalogRoutesDeps, catalogRoutes } from './catalog-routes.ts';
import { docsRoutes } from './openapi.ts';
import { type ProductRoutesDeps, productRoutes } from './product-routes.ts';

export interface QueryAppDeps {
  logger: Logger;
  registry: Registry;
  products: ProductRoutesDeps;
  catalog: CatalogRoutesDeps;
  health: HealthRoutesDeps;
  admin: AdminRoutesDeps;
}

/** The query service's HTTP API (DESIGN.md section 5). */
export function createQueryApp(deps: QueryAppDeps): Hono {
  const app = new Hono();
  app.use(correlationId(deps.logger));
  app.use(requestMetrics(deps.registry));
  app.route('/', productRoutes(deps.products));
  app.route('/', catalogRoutes(deps.catalog));
  app.route('/', healthRoutes(deps.health));
  app.route('/', adminRoutes(deps.admin));
  app.route('/', docsRoutes());
  app.notFound((c) => problemResponse(c, new ProblemError('not-found', `no route ${c.req.method} ${c.req.path}`)));
  const problems = problemHandler(() => deps.logger);
  app.onError((error, c) => problems(unavailability(error) ?? error, c));
  return app;
}

/** The failures that mean "not now": the views database is down, busy, or too slow for this query. */
function unavailability(error: Error): ProblemError | undefined {
  if (isMongoUnavailable(error)) {
    return new ProblemError('service-unavailable', 'the views database does not answer', {}, { 'Retry-After': '5' });
  }
  if (error instanceof BulkheadFull) {
    return new ProblemError(
      'service-unavailable',
      `too many ${error.bulkhead} in progress; retry shortly`,
      {},
      {
        'Retry-After': '1',
      },
    );
  }
  if (isTimeLimitExceeded(error)) {
    return new ProblemError(
      'service-unavailable',
      'the query ran past its time limit; retry later',
      {},
      {
        'Retry-After': '5',
      },
    );
  }
  return undefined;
}

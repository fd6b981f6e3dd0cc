import { Hono } from 'hono';
import type { Logger } from '../../infra/logger.ts';
import type { Registry } from '../../infra/metrics.ts';
import { type HealthRoutesDeps, healthRoutes } from '../health.ts';
import { unmatchedRequest } from '../method-not-allowed.ts';
import { correlationId } from '../middleware/correlation-id.ts';
import { requestMetrics } from '../middleware/request-metrics.ts';
import { problemHandler, problemResponse } from '../problem.ts';
import { type AdminRoutesDeps, adminRoutes } from './admin-routes.ts';
import { type CatalogRoutesDeps, catalogRoutes } from './catalog-routes.ts';
import { type ConsoleRoutesDeps, consoleRoutes } from './console-routes.ts';
import { docsRoutes } from './openapi.ts';
import { type ProductRoutesDeps, productRoutes } from './product-routes.ts';
import { unavailability } from './unavailability.ts';

export interface QueryAppDeps {
  logger: Logger;
  registry: Registry;
  products: ProductRoutesDeps;
  catalog: CatalogRoutesDeps;
  health: HealthRoutesDeps;
  admin: AdminRoutesDeps;
  console: ConsoleRoutesDeps;
}

/** The query service's HTTP API (DESIGN.md section 5). */
export function createQueryApp(deps: QueryAppDeps): Hono {
  const app = new Hono();
  app.use(correlationId(deps.logger));
  app.use(requestMetrics(deps.registry));
  app.route('/', productRoutes(deps.products));
  app.route('/', catalogRoutes(deps.catalog));
  app.route('/', consoleRoutes(deps.console));
  app.route('/', healthRoutes(deps.health));
  app.route('/', adminRoutes(deps.admin));
  app.route('/', docsRoutes());
  const unmatched = unmatchedRequest(app);
  app.notFound((c) => problemResponse(c, unmatched(c)));
  const problems = problemHandler(() => deps.logger);
  app.onError((error, c) => problems(unavailability(error) ?? error, c));
  return app;
}

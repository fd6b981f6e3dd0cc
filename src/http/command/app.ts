import { Hono } from 'hono';
import type { Logger } from '../../infra/logger.ts';
import type { Registry } from '../../infra/metrics.ts';
import { isDatabaseUnavailable } from '../../infra/postgres.ts';
import { healthRoutes, type ReadinessCheck } from '../health.ts';
import { unmatchedRequest } from '../method-not-allowed.ts';
import { bearerAuth } from '../middleware/bearer-auth.ts';
import { correlationId } from '../middleware/correlation-id.ts';
import { requestMetrics } from '../middleware/request-metrics.ts';
import { docsRoutes } from '../openapi/docs-page.ts';
import { problemHandler, serviceUnavailable } from '../problem.ts';
import { commandOpenApi } from './openapi.ts';
import { type ProductRoutesDeps, productRoutes } from './routes.ts';

export interface CommandAppDeps extends ProductRoutesDeps {
  tokens: readonly string[];
  logger: Logger;
  registry: Registry;
  readiness: Record<string, ReadinessCheck>;
}

/** The command service's HTTP application; tests drive it with `app.request()`. */
export function commandApp(deps: CommandAppDeps): Hono {
  const app = new Hono();
  const problems = problemHandler(() => deps.logger);
  // An event store read on this thread (GET .../events) that meets a database fault: 503, the
  // error text in the log with the request's correlation id, never in the answer.
  app.onError((error, c) => {
    if (!isDatabaseUnavailable(error)) return problems(error, c);
    (c.var.logger ?? deps.logger).warn({ err: error }, 'the event store is unavailable');
    return problems(serviceUnavailable('the event store is unavailable; retry later'), c);
  });
  const unmatched = unmatchedRequest(app);
  app.notFound((c) => {
    throw unmatched(c);
  });
  app.use(correlationId(deps.logger));
  app.use(requestMetrics(deps.registry));
  app.route('/', healthRoutes({ registry: deps.registry, checks: deps.readiness }));
  app.get('/openapi.json', (c) => c.json(commandOpenApi));
  app.route('/', docsRoutes('cqrs-catalog command API'));
  app.use('/products', bearerAuth(deps.tokens));
  app.use('/products/*', bearerAuth(deps.tokens));
  app.route('/products', productRoutes(deps));
  return app;
}

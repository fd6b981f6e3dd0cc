import { Hono } from 'hono';
import type { ProjectionsStatus } from '../../projections/status.ts';
import type { ViewReader } from '../../projections/view-reader.ts';
import { NoQuery, parseQuery } from './params.ts';

export interface CatalogRoutesDeps {
  reader: ViewReader;
  /** The consumer group's progress over every partition (see `projectionsStatus`). */
  projections: () => Promise<ProjectionsStatus>;
}

/** GET /stats and GET /projections. */
export function catalogRoutes(deps: CatalogRoutesDeps): Hono {
  const app = new Hono();

  app.get('/stats', async (c) => {
    parseQuery(c, NoQuery);
    return c.json(await deps.reader.stats());
  });

  app.get('/projections', async (c) => {
    parseQuery(c, NoQuery);
    return c.json(await deps.projections());
  });

  return app;
}

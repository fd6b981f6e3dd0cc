import { Hono } from 'hono';
import { exactJson } from '../../infra/exact-json.ts';
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

  // Totals may pass 2^53: written as exact integers, which `c.json` (JSON.stringify) cannot do.
  app.get('/stats', async (c) => {
    parseQuery(c, NoQuery);
    const stats = await deps.reader.stats();
    return c.body(exactJson(stats), 200, { 'content-type': 'application/json' });
  });

  app.get('/projections', async (c) => {
    parseQuery(c, NoQuery);
    return c.json(await deps.projections());
  });

  return app;
}

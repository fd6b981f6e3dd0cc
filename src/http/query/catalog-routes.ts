import { Hono } from 'hono';
import type { Admin } from 'kafkajs';
import type { ActorProgress } from '../../projections/partition-actor.ts';
import { projectionsStatus } from '../../projections/status.ts';
import type { ViewReader } from '../../projections/view-reader.ts';
import { NoQuery, parseQuery } from './params.ts';

export interface CatalogRoutesDeps {
  reader: ViewReader;
  admin: Admin;
  topic: string;
  /** The consumer group of the generation being read, and this process's actors in it. */
  projection: () => { groupId: string; local: ActorProgress[] };
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
    const { groupId, local } = deps.projection();
    const generation = deps.reader.pointer.current;
    const status = await projectionsStatus({
      admin: deps.admin,
      topic: deps.topic,
      groupId,
      generation,
      shards: await deps.reader.shards(generation),
      local,
    });
    return c.json(status);
  });

  return app;
}

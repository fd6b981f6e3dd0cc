import { timingSafeEqual } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { RebuildInProgressError } from '../../projections/rebuild.ts';
import type { RebuildJob } from '../../projections/rebuild-job.ts';
import { ProblemError } from '../problem.ts';
import { type DeadLetterRoutesDeps, deadLetterRoutes } from './dead-letter-routes.ts';
import { NoQuery, parseQuery } from './params.ts';

export interface AdminRoutesDeps {
  tokens: string[];
  rebuild: RebuildJob;
  deadLetters: DeadLetterRoutesDeps;
}

const sameToken = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Bearer tokens from ADMIN_API_TOKENS; with none configured, every admin request is refused. */
export function adminAuth(tokens: string[]): MiddlewareHandler {
  return async function adminAuthMiddleware(c, next) {
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!given || !tokens.some((token) => sameToken(given, token))) {
      throw new ProblemError('unauthorized', 'an admin bearer token is required', {}, { 'WWW-Authenticate': 'Bearer' });
    }
    await next();
  };
}

/**
 * POST /admin/rebuild starts a rebuild from the event store in this process (see `beginRebuild`);
 * GET /admin/rebuild shows its progress: phase, events read of those counted, rate, ETA, handover.
 * The dead-letter routes (dead-letter-routes.ts) sit behind the same token.
 */
export function adminRoutes(deps: AdminRoutesDeps): Hono {
  const app = new Hono();
  app.use('/admin/*', adminAuth(deps.tokens));

  app.post('/admin/rebuild', async (c) => {
    parseQuery(c, NoQuery);
    try {
      const generation = await deps.rebuild.start();
      c.header('Location', '/admin/rebuild');
      return c.json({ generation, status: '/admin/rebuild' }, 202);
    } catch (error) {
      if (error instanceof RebuildInProgressError) throw new ProblemError('version-conflict', error.message);
      throw error;
    }
  });

  app.get('/admin/rebuild', (c) => {
    parseQuery(c, NoQuery);
    const progress = deps.rebuild.progress;
    if (!progress) throw new ProblemError('not-found', 'this process has not started a rebuild');
    return c.json(progress);
  });

  app.route('/', deadLetterRoutes(deps.deadLetters));
  return app;
}

import { Hono } from 'hono';
import { enums, type Infer, object } from 'superstruct';
import {
  DeadLetterNotFoundError,
  DeadLettersNotReadError,
  type Redriver,
} from '../../projections/operations/redrive.ts';
import { POISON_REASONS } from '../../projections/record.ts';
import { readJson } from '../json-body.ts';
import { ProblemError, serviceUnavailable } from '../problem.ts';
import { type DeadLetterSource, deadLettersEvent } from './operations-feed.ts';
import { NoQuery, parseQuery } from './params.ts';

export interface DeadLetterRoutesDeps {
  deadLetters: DeadLetterSource;
  redriver: Redriver;
}

/** Body of POST /admin/dead-letters/redrive: every dead letter held with this reason. */
export const RedriveByReason = object({ reason: enums(POISON_REASONS) });
export type RedriveByReason = Infer<typeof RedriveByReason>;

const COORDINATE = /^\d{1,15}$/;

function parseCoordinates(partition: string, offset: string): { partition: number; offset: number } {
  const errors = [
    ...(COORDINATE.test(partition) ? [] : [{ path: '/partition', message: 'must be a whole number' }]),
    ...(COORDINATE.test(offset) ? [] : [{ path: '/offset', message: 'must be a whole number' }]),
  ];
  if (errors.length > 0) {
    throw new ProblemError('validation-failed', `the path has ${errors.length} invalid parameter(s)`, { errors });
  }
  return { partition: Number(partition), offset: Number(offset) };
}

const redriveProblem = (error: unknown): unknown => {
  if (error instanceof DeadLettersNotReadError) return serviceUnavailable(error.message, 2);
  if (error instanceof DeadLetterNotFoundError) return new ProblemError('not-found', error.message);
  return error;
};

/**
 * The dead-letter topic's latest records, and their re-drive back to the event topic. Mounted under
 * the admin routes, behind their bearer token.
 */
export function deadLetterRoutes(deps: DeadLetterRoutesDeps): Hono {
  const app = new Hono();

  app.get('/admin/dead-letters', (c) => {
    parseQuery(c, NoQuery);
    deps.deadLetters.ensureStarted();
    if (!deps.deadLetters.ready) throw serviceUnavailable('the dead-letter topic is still being read', 2);
    return c.json(deadLettersEvent(deps.deadLetters, Number.MAX_SAFE_INTEGER));
  });

  app.post('/admin/dead-letters/redrive', async (c) => {
    parseQuery(c, NoQuery);
    const { value } = await readJson(c, RedriveByReason);
    try {
      return c.json({ redriven: await deps.redriver.byReason(value.reason, c.var.logger) });
    } catch (error) {
      throw redriveProblem(error);
    }
  });

  app.post('/admin/dead-letters/:partition/:offset/redrive', async (c) => {
    parseQuery(c, NoQuery);
    const { partition, offset } = parseCoordinates(c.req.param('partition'), c.req.param('offset'));
    try {
      return c.json({ redriven: await deps.redriver.one(partition, offset, c.var.logger) });
    } catch (error) {
      throw redriveProblem(error);
    }
  });

  return app;
}

import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../infra/logger.ts';

declare module 'hono' {
  interface ContextVariableMap {
    correlationId: string;
    logger: Logger;
  }
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

/**
 * Takes `X-Correlation-Id` (or `X-Request-Id`) from the request when it looks like an id, else makes
 * one; echoes it on the response and gives the request a child logger that carries it.
 *
 * @example app.use(correlationId(logger)); app.get('/', (c) => { c.var.logger.info('hi'); ... })
 */
export function correlationId(logger: Logger): MiddlewareHandler {
  return async function correlationIdMiddleware(c, next) {
    const given = c.req.header('x-correlation-id') ?? c.req.header('x-request-id');
    const id = given && SAFE_ID.test(given) ? given : randomUUID();
    c.set('correlationId', id);
    c.set('logger', logger.child({ correlationId: id }));
    c.header('X-Correlation-Id', id);
    await next();
  };
}

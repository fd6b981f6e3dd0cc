import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from '../problem.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <token>` with one of `tokens`. Tokens are compared as SHA-256
 * digests in constant time, so neither their content nor their length leaks through timing.
 *
 * @example app.use('/products/*', bearerAuth(['s3cret-token-of-16+chars']))
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler {
  const accepted = tokens.map(digest);
  return async function bearerAuthMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = match ? digest(match[1] as string) : undefined;
    if (!given || !accepted.some((token) => timingSafeEqual(token, given))) {
      throw new ProblemError(
        'unauthorized',
        match ? 'the bearer token is not accepted' : 'send Authorization: Bearer <token>',
        {},
        { 'WWW-Authenticate': 'Bearer realm="cqrs-catalog"' },
      );
    }
    await next();
  };
}

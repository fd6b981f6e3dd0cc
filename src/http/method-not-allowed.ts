import type { Context, Hono } from 'hono';
import { ProblemError } from './problem.ts';

/**
 * A request no route takes: 405 with `Allow` when its path has routes for other methods (RFC 9110
 * section 15.5.6), else 404. Hono has no 405 of its own: a method it has no handler for is a miss
 * like an unknown path. The paths are read from the app's routes when the first miss comes, after
 * every route is registered; middleware (method ALL) is not a route.
 */
export function unmatchedRequest(app: Hono): (c: Context) => ProblemError {
  let routes: { pattern: RegExp; method: string }[] | undefined;
  const compile = () =>
    app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({ pattern: pathPattern(route.path), method: route.method }));

  return function unmatched(c: Context): ProblemError {
    routes ??= compile();
    const path = c.req.path;
    const allowed = new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method));
    if (allowed.size === 0) return new ProblemError('not-found', `no route ${c.req.method} ${path}`);
    // Hono answers HEAD with the GET handler.
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed].sort().join(', ');
    return new ProblemError(
      'method-not-allowed',
      `${c.req.method} is not allowed on ${path}; allowed: ${allow}`,
      {},
      { Allow: allow },
    );
  };
}

/** `/products/:id/price` as a regular expression; `:name` is one path segment, `*` any rest. */
export function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

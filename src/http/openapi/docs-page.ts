import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

/**
 * `/docs`: Scalar's API reference (the npm package's standalone bundle) on the service's own
 * `/openapi.json`, with a client that sends requests from the page. The bundle is served by the
 * service itself at `/docs/scalar.js`, and the page turns off what would reach Scalar's servers (its
 * web fonts, its AI agent's registry, its developer tools), so it works on a closed network.
 */

let bundle: string | undefined;
const scalarBundle = (): string => {
  bundle ??= readFileSync(
    createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js'),
    'utf8',
  );
  return bundle;
};

const page = (title: string): string => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="/docs/scalar.js"></script>
    <script>
      Scalar.createApiReference('#app', {
        url: '/openapi.json',
        withDefaultFonts: false,
        agent: { disabled: true },
        showDeveloperTools: 'never',
        metaData: { title: ${JSON.stringify(title)} },
      });
    </script>
  </body>
</html>
`;

/** GET /docs and its script. */
export function docsRoutes(title: string): Hono {
  const app = new Hono();
  const html = page(title);
  app.get('/docs', (c) => c.html(html));
  app.get('/docs/scalar.js', (c) =>
    c.body(scalarBundle(), 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
    }),
  );
  return app;
}

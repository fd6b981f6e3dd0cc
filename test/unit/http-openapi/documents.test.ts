import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Hono } from 'hono';
import { commandApp } from '../../../src/http/command/app.ts';
import { commandOpenApi } from '../../../src/http/command/openapi.ts';
import { createQueryApp, type QueryAppDeps } from '../../../src/http/query/app.ts';
import { queryOpenApi } from '../../../src/http/query/openapi.ts';
import { createLogger } from '../../../src/infra/logger.ts';
import { createRegistry } from '../../../src/infra/metrics.ts';

/**
 * Both OpenAPI documents against the apps they describe: the same operations, every parameter with a
 * schema, every response example a problem of the status it is listed under. schemathesis
 * (`npm run conformance`) checks the live services against them; this catches a drift without a stack.
 */

type Json = Record<string, unknown>;
type Operation = { parameters?: Json[]; responses: Record<string, Json>; operationId?: string };
type Document = { paths: Record<string, Record<string, Operation>> };

const logger = createLogger('test', 'silent');
const command = commandApp({
  tokens: ['unit-test-token-0123456789'],
  logger,
  registry: createRegistry('test'),
  readiness: {},
  dispatch: () => Promise.reject(new Error('not used')),
  readEvents: () => Promise.resolve([]),
});
// Routes are registered without touching their dependencies; no request is sent here.
const unused = {} as never;
const query = createQueryApp({
  logger,
  registry: createRegistry('test'),
  products: { reader: unused, hub: unused, cursorTtlMs: 1000, fallbackPollMs: 50 },
  catalog: { reader: unused, projections: unused },
  health: { registry: createRegistry('test'), checks: {} },
  admin: { tokens: [], rebuild: unused, deadLetters: unused },
  console: { feed: unused },
} satisfies QueryAppDeps);

const UNDOCUMENTED = new Set(['/openapi.json', '/docs', '/docs/scalar.js']);
const routesOf = (app: Hono): string[] =>
  app.routes
    .filter((route) => route.method !== 'ALL' && !UNDOCUMENTED.has(route.path))
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`)
    .sort();
const operationsOf = (doc: Document): string[] =>
  Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
const each = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
  );

for (const [service, app, doc] of [
  ['command', command, commandOpenApi as unknown as Document],
  ['query', query, queryOpenApi() as unknown as Document],
] as const) {
  describe(`the ${service} service's OpenAPI document`, () => {
    test('is OpenAPI 3.1 and documents exactly the routes the app has', () => {
      assert.equal((doc as unknown as Json).openapi, '3.1.0');
      assert.deepEqual(operationsOf(doc), routesOf(app));
    });

    test('every parameter has a schema', () => {
      const missing = each(doc).flatMap(({ name, operation }) =>
        (operation.parameters ?? []).filter((p) => !p.schema && !p.content).map((p) => `${name} ${p.in} ${p.name}`),
      );
      assert.deepEqual(missing, []);
    });

    test('every operation has an id, and every problem example is of the status it is listed under', () => {
      const wrong: string[] = [];
      for (const { name, operation } of each(doc)) {
        if (!operation.operationId) wrong.push(`${name}: no operationId`);
        for (const [status, response] of Object.entries(operation.responses)) {
          const content = response.content as
            | Record<string, { examples?: Record<string, { value: Json }> }>
            | undefined;
          for (const [code, example] of Object.entries(content?.['application/problem+json']?.examples ?? {})) {
            if (String(example.value.status) !== status) wrong.push(`${name} ${status}: example ${code}`);
          }
        }
      }
      assert.deepEqual(wrong, []);
    });

    test('every link names an operation of the document', () => {
      const ids = new Set(each(doc).map(({ operation }) => operation.operationId));
      const dangling = each(doc).flatMap(({ name, operation }) =>
        Object.values(operation.responses).flatMap((response) =>
          Object.entries((response.links ?? {}) as Record<string, { operationId: string }>)
            .filter(([, link]) => !ids.has(link.operationId))
            .map(([link]) => `${name} -> ${link}`),
        ),
      );
      assert.deepEqual(dangling, []);
    });
  });
}

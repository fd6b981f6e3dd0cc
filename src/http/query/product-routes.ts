import { Hono } from 'hono';
import type { ProgressHub } from '../../projections/progress-hub.ts';
import type { ViewReader } from '../../projections/view-reader.ts';
import { toPriceChange } from '../../projections/views/price-history/view.ts';
import { type ProductDoc, toProductView } from '../../projections/views/products/view.ts';
import { ProblemError } from '../problem.ts';
import { cursorProblem, decodeCursor, encodeCursor, queryDigest } from './cursor.ts';
import { etagOf, ifNoneMatchHits } from './etag.ts';
import { DEFAULT_WAIT_MS, ListQuery, listShape, NoQuery, ProductQuery, parseProductId, parseQuery } from './params.ts';
import { unavailability } from './unavailability.ts';

export interface ProductRoutesDeps {
  reader: ViewReader;
  hub: ProgressHub;
  /** A list cursor older than this can no longer be served (its superseded versions are gone). */
  cursorTtlMs: number;
  /** How often a read-your-writes wait re-reads when no announcement comes (another process owns it). */
  fallbackPollMs: number;
}

const notFound = (id: string) => new ProblemError('not-found', `no product ${id}`);

/** GET /products/{id}, GET /products and GET /products/{id}/price-history. */
export function productRoutes(deps: ProductRoutesDeps): Hono {
  const { reader, hub } = deps;
  const app = new Hono();

  /**
   * Waits for the view to reach `minVersion`: woken by the partition actor's announcement, with a slow
   * re-read as the fallback, until `maxWaitMs`; then 503 with the version the view has, or 404 when
   * the view has no such product at all. A read that fails as unavailable is tried again until then.
   */
  async function awaitVersion(id: string, minVersion: number, maxWaitMs: number): Promise<ProductDoc> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const remaining = deadline - Date.now();
      const wake = hub.next(id, Math.max(0, Math.min(remaining, deps.fallbackPollMs)));
      let doc: ProductDoc | null;
      try {
        doc = await reader.product(id);
      } catch (error) {
        // The client granted maxWaitMs: a views database that does not answer for a moment (just
        // back from an outage, its connections not yet re-established) is waited out like a view
        // that is behind. At the deadline the failure is the answer (503).
        if (remaining <= 0 || !(error instanceof Error && unavailability(error))) {
          wake.cancel();
          throw error;
        }
        await wake.promise;
        continue;
      }
      if (doc && doc.version >= minVersion) {
        wake.cancel();
        return doc;
      }
      if (remaining <= 0) {
        wake.cancel();
        // A product the view still does not have is the client's question answered: it does not exist.
        if (!doc) throw notFound(id);
        const currentVersion = doc.version;
        throw new ProblemError(
          'service-unavailable',
          `the view of ${id} is at version ${currentVersion}, not yet ${minVersion}; retry later`,
          { currentVersion },
          { 'Retry-After': '1' },
        );
      }
      await wake.promise;
    }
  }

  app.get('/products/:id', async (c) => {
    const id = parseProductId(c);
    const { minVersion, maxWaitMs = DEFAULT_WAIT_MS } = parseQuery(c, ProductQuery);
    const doc = minVersion === undefined ? await reader.product(id) : await awaitVersion(id, minVersion, maxWaitMs);
    if (!doc) throw notFound(id);
    const etag = etagOf(doc.version);
    c.header('ETag', etag);
    c.header('Cache-Control', 'no-cache');
    if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    return c.json(toProductView(doc));
  });

  app.get('/products/:id/price-history', async (c) => {
    const id = parseProductId(c);
    parseQuery(c, NoQuery);
    const entries = await reader.priceHistory(id);
    if (entries.length === 0 && !(await reader.product(id))) throw notFound(id);
    return c.json({ items: entries.map(toPriceChange) });
  });

  app.get('/products', async (c) => {
    const query = parseQuery(c, ListQuery);
    const { sort, limit, filters } = listShape(query);
    if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice) {
      return c.json({ items: [], nextCursor: null });
    }
    const digest = queryDigest(sort, filters);
    let page: { generation: number; snapshot: Date; after?: { key: string | number | Date; id: string } };
    // An empty cursor is the first page, as an absent one: a form or a collection variable left blank.
    if (!query.cursor) {
      const { generation, at } = await reader.snapshot();
      page = { generation, snapshot: at };
    } else {
      const cursor = decodeCursor(query.cursor, sort);
      if (cursor.query !== digest) throw cursorProblem('belongs to a list with other filters');
      if (!reader.readable(cursor.generation) || Date.now() - cursor.snapshot.getTime() > deps.cursorTtlMs) {
        throw cursorProblem('has expired; start again without a cursor');
      }
      page = { generation: cursor.generation, snapshot: cursor.snapshot, after: cursor.after };
    }
    const result = await reader.list(page.generation, {
      filters,
      sort,
      limit,
      snapshot: page.snapshot,
      after: page.after,
    });
    const nextCursor = result.last
      ? encodeCursor({ generation: page.generation, snapshot: page.snapshot, query: digest, after: result.last }, sort)
      : null;
    return c.json({ items: result.items.map(toProductView), nextCursor });
  });

  return app;
}

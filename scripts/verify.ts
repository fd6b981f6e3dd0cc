import { parseArgs } from 'node:util';
import { loadConfig, querySettings } from '../src/infra/config.ts';
import { LOG_START, type LogCursor, readAll } from '../src/infra/event-store/read.ts';
import { createLogger } from '../src/infra/logger.ts';
import { createMongo, viewsDb } from '../src/infra/mongo.ts';
import { createSql } from '../src/infra/postgres.ts';
import { differences, ExpectedCatalog } from '../src/projections/consistency.ts';
import { readPointer } from '../src/projections/generations.ts';
import { viewCollections } from '../src/projections/view-store.ts';
import { catalogStats, readShards } from '../src/projections/views/catalog-stats/query.ts';
import { toProductView } from '../src/projections/views/products/view.ts';
import { urls } from './stack/paths.ts';

/**
 * `npm run verify`: folds every stream of the event store with the domain's evolve and compares the
 * result with the current `products` view and `catalog_stats`. Prints the differences and exits 1 when
 * there are any (2 when it cannot check). `--wait-ms N` re-checks until clean or N ms have passed,
 * for a projection that is still catching up.
 */

const { values } = parseArgs({ options: { 'wait-ms': { type: 'string', default: '0' } } });
const waitMs = Number(values['wait-ms']);
const PAGE = 5_000;
const SHOWN = 50;

async function main(): Promise<number> {
  // The local stack's own servers unless the environment names others (its ports can be moved).
  const config = loadConfig(querySettings, { DATABASE_URL: urls.database, MONGO_URL: urls.mongo, ...process.env });
  const logger = createLogger('verify', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const sql = createSql(config.DATABASE_URL, { max: 2, logger, applicationName: 'verify' });
  const mongo = createMongo(config.MONGO_URL, { logger, appName: 'verify', maxPoolSize: 4 });
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const expected = new ExpectedCatalog();
      let events = 0;
      for (let after: LogCursor = LOG_START; ; ) {
        const page = await readAll(sql, after, PAGE);
        for (const event of page) expected.add(event);
        events += page.length;
        const last = page.at(-1);
        if (!last || page.length < PAGE) break;
        after = { transactionId: last.transactionId, position: last.position };
      }
      const db = viewsDb(mongo);
      const { current } = await readPointer(db);
      const views = viewCollections(db, current);
      const [docs, shards] = await Promise.all([views.products.find({}).toArray(), readShards(views.stats)]);
      const found = differences(
        { products: expected.products(), stats: expected.stats() },
        { products: docs.map(toProductView), stats: catalogStats(shards) },
      );
      const summary = `${events} events, ${expected.products().size} products in the event store; ${docs.length} in the view (generation ${current})`;
      if (found.length === 0) {
        console.log(`verify: clean. ${summary}`);
        return 0;
      }
      if (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      console.log(`verify: ${found.length} difference(s). ${summary}`);
      for (const line of found.slice(0, SHOWN)) console.log(`  ${line}`);
      if (found.length > SHOWN) console.log(`  ... and ${found.length - SHOWN} more`);
      return 1;
    }
  } finally {
    await sql.end();
    await mongo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('verify: could not check:', error);
    process.exit(2);
  },
);

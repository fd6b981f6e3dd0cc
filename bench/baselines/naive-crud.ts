import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import postgres from 'postgres';
import { integer, max, min, object, optional, pattern, type Struct, size, string, validate } from 'superstruct';

/**
 * Baseline (a) of the benchmark: the command routes as a plain CRUD service would write them, one
 * transaction per command that locks the row with SELECT ... FOR UPDATE, on its own table in the
 * same PostgreSQL. No actors, no group commit, no events, no idempotency records: the floor the
 * event-sourced design has to beat. The bench starts it as a child process on 127.0.0.1.
 */

const port = Number(process.env.PORT ?? 8090);
const token = process.env.API_TOKEN ?? '';
const sql = postgres(process.env.DATABASE_URL ?? 'postgres://catalog:catalog@127.0.0.1:54329/catalog', {
  // The same pool size the command service defaults to, so neither side wins on connections.
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  onnotice: () => {},
  // The bench finds this service's backends in pg_stat_activity by this name, to read their CPU.
  connection: { application_name: 'naive-crud' },
});

await sql`
  CREATE TABLE IF NOT EXISTS naive_products (
    id uuid PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    description text NOT NULL,
    price_amount bigint NOT NULL,
    price_currency char(3) NOT NULL,
    stock bigint NOT NULL CHECK (stock >= 0),
    status text NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`;

const Uuid = pattern(string(), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const Amount = max(min(integer(), 1), 1_000_000_000_000);
const Currency = pattern(string(), /^[A-Z]{3}$/);
const Create = object({
  id: optional(Uuid),
  sku: size(string(), 1, 64),
  name: size(string(), 1, 200),
  description: optional(size(string(), 0, 2000)),
  price: object({ amount: Amount, currency: Currency }),
  initialStock: optional(min(integer(), 0)),
});
const Price = object({ amount: Amount, currency: Currency });
const Details = object({ name: optional(size(string(), 1, 200)), description: optional(size(string(), 0, 2000)) });
const Reserve = object({ quantity: min(integer(), 1), reservationId: optional(size(string(), 1, 200)) });

class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

async function body<T>(c: Context, struct: Struct<T, unknown>): Promise<T> {
  if (!c.req.header('content-type')?.startsWith('application/json'))
    throw new Problem(415, 'unsupported-media-type', 'send JSON');
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new Problem(400, 'malformed-json', 'the body is not JSON');
  }
  const [error, value] = validate(json, struct);
  if (error) throw new Problem(422, 'validation', error.message);
  return value;
}

interface Row {
  price_amount: string;
  price_currency: string;
  stock: string;
  status: string;
  version: number;
}

/** The baseline's one pattern: lock the row, decide, write, commit. */
function withLockedRow<T>(id: string, work: (tx: postgres.TransactionSql, row: Row) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    const [row] = await tx<Row[]>`
      SELECT price_amount, price_currency, stock, status, version FROM naive_products WHERE id = ${id} FOR UPDATE`;
    if (!row) throw new Problem(404, 'not-found', `no product ${id}`);
    if (row.status === 'discontinued') throw new Problem(409, 'product-discontinued', `product ${id} is discontinued`);
    return work(tx, row);
  }) as Promise<T>;
}

const app = new Hono();

app.onError((error, c) => {
  const problem =
    error instanceof Problem ? error : new Problem(500, 'internal', error instanceof Error ? error.message : 'error');
  return c.json(
    {
      type: `https://cqrs-catalog.example/problems/${problem.code}`,
      title: problem.code,
      status: problem.status,
      detail: problem.message,
    },
    problem.status,
    { 'content-type': 'application/problem+json' },
  );
});

app.get('/health/ready', async (c) => {
  await sql`SELECT 1`;
  return c.json({ status: 'ready' });
});

// Hono's `/products/*` also matches `/products` itself.
app.use('/products/*', async (c, next) => {
  if (token && c.req.header('authorization') !== `Bearer ${token}`) throw new Problem(401, 'unauthorized', 'bad token');
  await next();
});

app.post('/products', async (c) => {
  const input = await body(c, Create);
  const id = input.id ?? randomUUID();
  try {
    await sql`
      INSERT INTO naive_products (id, sku, name, description, price_amount, price_currency, stock, status, version)
      VALUES (${id}, ${input.sku}, ${input.name}, ${input.description ?? ''}, ${input.price.amount},
              ${input.price.currency}, ${input.initialStock ?? 0}, 'active', 1)`;
  } catch (error) {
    const constraint = (error as { constraint_name?: string }).constraint_name;
    if (constraint === 'naive_products_sku_key') throw new Problem(409, 'sku-taken', `SKU ${input.sku} is taken`);
    if (constraint === 'naive_products_pkey') throw new Problem(409, 'already-exists', `product ${id} exists`);
    throw error;
  }
  return c.json({ id, version: 1 }, 201, { location: `/products/${id}` });
});

app.put('/products/:id/price', async (c) => {
  const id = c.req.param('id');
  const price = await body(c, Price);
  const version = await withLockedRow(id, async (tx, row) => {
    if (Number(row.price_amount) === price.amount && row.price_currency === price.currency) return row.version;
    await tx`
      UPDATE naive_products SET price_amount = ${price.amount}, price_currency = ${price.currency},
             version = version + 1, updated_at = now() WHERE id = ${id}`;
    return row.version + 1;
  });
  return c.json({ id, version });
});

app.patch('/products/:id', async (c) => {
  const id = c.req.param('id');
  const details = await body(c, Details);
  if (details.name === undefined && details.description === undefined) {
    throw new Problem(422, 'validation', 'nothing to change');
  }
  const version = await withLockedRow(id, async (tx, row) => {
    await tx`
      UPDATE naive_products SET name = COALESCE(${details.name ?? null}, name),
             description = COALESCE(${details.description ?? null}, description),
             version = version + 1, updated_at = now() WHERE id = ${id}`;
    return row.version + 1;
  });
  return c.json({ id, version });
});

app.post('/products/:id/stock/reservations', async (c) => {
  const id = c.req.param('id');
  const { quantity, reservationId = randomUUID() } = await body(c, Reserve);
  const result = await withLockedRow(id, async (tx, row) => {
    const stock = Number(row.stock);
    if (stock < quantity)
      throw new Problem(409, 'insufficient-stock', `requested ${quantity} but only ${stock} in stock`);
    await tx`UPDATE naive_products SET stock = stock - ${quantity}, version = version + 1, updated_at = now() WHERE id = ${id}`;
    return { version: row.version + 1, stock: stock - quantity };
  });
  return c.json({ id, ...result, reservationId }, 201);
});

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  process.stdout.write(`naive-crud baseline listening on http://127.0.0.1:${port}\n`);
});

const shutdown = () => {
  server.close();
  void sql.end({ timeout: 2 }).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { validate } from 'superstruct';
import type { StoredEvent } from '../../infra/event-store/read.ts';
import { readJson } from '../json-body.ts';
import { ProblemError, validationProblem } from '../problem.ts';
import {
  ChangePriceBody,
  CreateProductBody,
  ProductId,
  ReservationBody,
  RestockBody,
  UpdateDetailsBody,
} from './schemas.ts';
import { requireIdempotencyKey, type WriteDeps, writePipeline } from './write-pipeline.ts';

export interface ProductRoutesDeps extends WriteDeps {
  readEvents: (productId: string) => Promise<StoredEvent[]>;
}

function productId(raw: string): string {
  const [error, id] = validate(raw, ProductId);
  if (error) throw validationProblem(error, 'path');
  return id.toLowerCase();
}

/** The command API's `/products` routes: validate, build the command, dispatch, map the outcome. */
export function productRoutes(deps: ProductRoutesDeps): Hono {
  const write = writePipeline(deps);
  const app = new Hono();

  app.post('/', async (c) => {
    const { value: body } = await readJson(c, CreateProductBody);
    const id = body.id?.toLowerCase() ?? randomUUID();
    const { id: _, ...data } = body;
    return write(c, 'create', id, { type: 'CreateProduct', data }, body);
  });

  app.put('/:id/price', async (c) => {
    const id = productId(c.req.param('id'));
    const { value: price } = await readJson(c, ChangePriceBody);
    return write(c, 'price', id, { type: 'ChangePrice', data: { price } }, price);
  });

  app.patch('/:id', async (c) => {
    const id = productId(c.req.param('id'));
    const { value: body } = await readJson(c, UpdateDetailsBody);
    return write(c, 'details', id, { type: 'UpdateDetails', data: body }, body);
  });

  // Restocks and reservations require an Idempotency-Key (a retry would otherwise apply twice).
  // Checks in order: 401 (bearer token, middleware), 422 (the id in the path), 400 or 422 (the
  // key: missing or malformed), then the body (415, 413, 400, 422); the check changes nothing.
  app.post('/:id/stock/restock', async (c) => {
    const id = productId(c.req.param('id'));
    requireIdempotencyKey(c);
    const { value: body } = await readJson(c, RestockBody);
    return write(c, 'restock', id, { type: 'Restock', data: body }, body);
  });

  app.post('/:id/stock/reservations', async (c) => {
    const id = productId(c.req.param('id'));
    requireIdempotencyKey(c);
    const { value: body } = await readJson(c, ReservationBody);
    const data = { quantity: body.quantity, reservationId: body.reservationId ?? randomUUID() };
    return write(c, 'reserve', id, { type: 'ReserveStock', data }, body);
  });

  app.delete('/:id', async (c) => {
    const id = productId(c.req.param('id'));
    return write(c, 'discontinue', id, { type: 'Discontinue', data: {} }, null);
  });

  app.get('/:id/events', async (c) => {
    const id = productId(c.req.param('id'));
    const events = await deps.readEvents(id);
    if (events.length === 0) throw new ProblemError('not-found', `no product ${id}`);
    const last = events.at(-1) as StoredEvent;
    c.header('ETag', `"${last.version}"`);
    return c.json({ items: events.map(({ position: _, ...envelope }) => envelope) });
  });

  return app;
}

import { randomUUID } from 'node:crypto';
import type { Payloads } from './scenarios.ts';

/**
 * The operations a scenario's mix names, built from the payload shapes of loadtest/scenarios.json.
 * The k6 scripts implement the same operation names; a unit test checks that every name a mix uses
 * exists on both sides.
 */

export type Service = 'command' | 'query';

export interface RequestSpec {
  op: string;
  service: Service;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string;
  body?: string;
  productId?: string;
}

export interface Outcome {
  /** What came back: `ok`, a problem code such as `insufficient-stock`, or `status 500`. */
  key: string;
  ok: boolean;
  /** An answer the scenario expects even though it is not a success (hot product sold out). */
  expectedRejection: boolean;
}

/** Products a workload may address: ids known to exist on one target. */
export class Population {
  readonly ids: string[] = [];

  add(id: string): void {
    this.ids.push(id);
  }

  get size(): number {
    return this.ids.length;
  }

  pick(limit = this.ids.length): string {
    const n = Math.min(limit, this.ids.length);
    if (n === 0) throw new Error('no products to address: the create phase produced none');
    return this.ids[Math.floor(Math.random() * n)] as string;
  }
}

export interface OpContext {
  payloads: Payloads;
  population: Population;
  /** Addresses only the first `spread` products of the population (a scenario's product count). */
  spread?: number;
  hotProductId?: string;
}

const randomInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

const LETTERS = 'abcdefghijklmnopqrstuvwxyz ';
const text = (length: number) => {
  let out = '';
  for (let i = 0; i < length; i++) out += LETTERS[Math.floor(Math.random() * LETTERS.length)];
  return out;
};

export function createBody(payloads: Payloads, id: string, initialStock = payloads.create.initialStock): string {
  const p = payloads.create;
  return JSON.stringify({
    id,
    sku: `${p.skuPrefix}-${id}`,
    name: p.name,
    description: p.description,
    price: { amount: randomInt(p.price.min, p.price.max), currency: p.price.currency },
    initialStock,
  });
}

export interface Operation {
  service: Service;
  /** The status the contract answers on success. */
  success: number;
  build(ctx: OpContext): RequestSpec;
}

export const operations: Record<string, Operation> = {
  create: {
    service: 'command',
    success: 201,
    build: ({ payloads }) => {
      const id = randomUUID();
      return {
        op: 'create',
        service: 'command',
        method: 'POST',
        path: '/products',
        body: createBody(payloads, id),
        productId: id,
      };
    },
  },
  changePrice: {
    service: 'command',
    success: 200,
    build: ({ payloads, population, spread }) => {
      const id = population.pick(spread);
      const p = payloads.changePrice;
      return {
        op: 'changePrice',
        service: 'command',
        method: 'PUT',
        path: `/products/${id}/price`,
        body: JSON.stringify({ amount: randomInt(p.min, p.max), currency: p.currency }),
        productId: id,
      };
    },
  },
  updateDetails: {
    service: 'command',
    success: 200,
    build: ({ payloads, population, spread }) => {
      const id = population.pick(spread);
      const p = payloads.updateDetails;
      return {
        op: 'updateDetails',
        service: 'command',
        method: 'PATCH',
        path: `/products/${id}`,
        body: JSON.stringify({
          name: `${p.namePrefix} ${randomInt(0, 999_999)}`,
          description: text(p.descriptionLength),
        }),
        productId: id,
      };
    },
  },
  reserve: {
    service: 'command',
    success: 201,
    build: ({ payloads, hotProductId }) => {
      if (!hotProductId) throw new Error('reserve needs the hot product');
      return {
        op: 'reserve',
        service: 'command',
        method: 'POST',
        path: `/products/${hotProductId}/stock/reservations`,
        body: JSON.stringify({ quantity: payloads.reserve.quantity, reservationId: randomUUID() }),
        productId: hotProductId,
      };
    },
  },
  getById: {
    service: 'query',
    success: 200,
    build: ({ population, spread }) => {
      const id = population.pick(spread);
      return { op: 'getById', service: 'query', method: 'GET', path: `/products/${id}`, productId: id };
    },
  },
  list: {
    service: 'query',
    success: 200,
    build: ({ payloads }) => {
      const queries = payloads.list.queries;
      return {
        op: 'list',
        service: 'query',
        method: 'GET',
        path: `/products?${queries[Math.floor(Math.random() * queries.length)]}`,
      };
    },
  },
  stats: {
    service: 'query',
    success: 200,
    build: () => ({ op: 'stats', service: 'query', method: 'GET', path: '/stats' }),
  },
};

export function operation(name: string): Operation {
  const found = operations[name];
  if (!found) throw new Error(`unknown operation ${JSON.stringify(name)} in loadtest/scenarios.json`);
  return found;
}

/** The one service every operation of a mix talks to, or undefined when the mix spans both. */
export function serviceOf(mix: Record<string, number>): Service | undefined {
  const services = new Set(Object.keys(mix).map((name) => operation(name).service));
  return services.size === 1 ? [...services][0] : undefined;
}

/** The last segment of a problem+json `type`, or undefined when the body is not a problem. */
export function problemCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { type?: unknown };
    return typeof parsed.type === 'string' ? parsed.type.split('/').pop() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `lenient` is for the trivial endpoint, which answers every request with the same 200: only the
 * HTTP exchange is measured there, not the domain's answer.
 */
export function classify(spec: RequestSpec, status: number, body: string, lenient = false): Outcome {
  if (lenient ? status >= 200 && status < 300 : status === operation(spec.op).success) {
    return { key: 'ok', ok: true, expectedRejection: false };
  }
  const code = status >= 400 ? problemCode(body) : undefined;
  // Below HTTP, the client's error (reset, refused, timed out) is all there is to tell failures apart.
  const key = code ? `${status} ${code}` : status === 0 ? `status 0 (${body.slice(0, 80)})` : `status ${status}`;
  const expectedRejection = spec.op === 'reserve' && status === 409 && code === 'insufficient-stock';
  return { key, ok: false, expectedRejection };
}

export function headersFor(spec: RequestSpec, token: string): Record<string, string> {
  if (spec.service === 'query') return { accept: 'application/json' };
  return {
    accept: 'application/json',
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    'idempotency-key': randomUUID(),
  };
}

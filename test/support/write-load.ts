import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type CommandService, type Reply, sendRequest } from './command-service.ts';
import { uniqueName } from './env.ts';
import type { StoredRow } from './event-log.ts';

/**
 * A bounded write load for integration tests: clients send restocks and reservations to a set of
 * products and remember every acknowledged (2xx) answer, so a test can check each one is stored.
 * The target service can change while the load runs (a restart after SIGKILL). Every write carries
 * an Idempotency-Key (restocks and reservations require one); a request that got no answer
 * (connection refused or reset) is remembered, and `retryUnanswered()` sends it again with its key,
 * as a client would after a crash.
 */

export interface SentWrite {
  id: string;
  kind: 'restock' | 'reserve';
  quantity: number;
  /** X-Correlation-Id. */
  correlation: string;
  /** The Idempotency-Key: the correlation id. */
  key: string;
  reservationId?: string;
}

export interface LoadResult {
  acknowledged: { sent: SentWrite; reply: Reply }[];
  unanswered: SentWrite[];
  statuses: Map<string, number>;
}

export interface LoadOptions {
  concurrency: number;
  /** A bound on the whole load, whatever happens. */
  maxRequests: number;
  /** A pause after each answer, to spread a load over time instead of finishing it at once. */
  pauseMs?: number;
}

type Target = () => { url: string; token: string };

export async function createProducts(svc: CommandService, count: number, stock = 1_000_000): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const res = await svc.request('POST', '/products', {
      id,
      sku: uniqueName('sku'),
      name: `Load product ${i}`,
      price: { amount: 100 + i, currency: 'EUR' },
      initialStock: stock,
    });
    assert.equal(res.status, 201, res.text);
    ids.push(id);
  }
  return ids;
}

async function send(target: Target, sent: SentWrite): Promise<Reply> {
  const { url, token } = target();
  const headers: Record<string, string> = { 'x-correlation-id': sent.correlation, 'idempotency-key': sent.key };
  return sent.kind === 'restock'
    ? sendRequest(url, token, 'POST', `/products/${sent.id}/stock/restock`, { quantity: sent.quantity }, headers)
    : sendRequest(
        url,
        token,
        'POST',
        `/products/${sent.id}/stock/reservations`,
        { quantity: sent.quantity, reservationId: sent.reservationId },
        headers,
      );
}

export class WriteLoad {
  readonly result: LoadResult = { acknowledged: [], unanswered: [], statuses: new Map() };
  private stopped = false;
  private finished = 0;
  private sent = 0;
  private readonly clients: Promise<void>[];

  constructor(
    private readonly target: Target,
    private readonly ids: readonly string[],
    private readonly options: LoadOptions,
  ) {
    this.clients = Array.from({ length: options.concurrency }, () =>
      this.client().finally(() => {
        this.finished += 1;
      }),
    );
  }

  get requests(): number {
    return this.sent;
  }

  private tally(label: string): void {
    this.result.statuses.set(label, (this.result.statuses.get(label) ?? 0) + 1);
  }

  private record(sent: SentWrite, reply: Reply): void {
    this.tally(String(reply.status));
    if (reply.status >= 200 && reply.status < 300) this.result.acknowledged.push({ sent, reply });
  }

  private async client(): Promise<void> {
    while (!this.stopped && this.sent < this.options.maxRequests) {
      const n = this.sent++;
      const id = this.ids[n % this.ids.length] as string;
      const kind = n % 3 === 0 ? 'reserve' : 'restock';
      const correlation = `${uniqueName('load')}-${n}`;
      const sent: SentWrite = { id, kind, quantity: 1 + (n % 4), correlation, key: correlation };
      if (kind === 'reserve') sent.reservationId = `res-${correlation}`;
      try {
        this.record(sent, await send(this.target, sent));
        if (this.options.pauseMs) await new Promise((r) => setTimeout(r, this.options.pauseMs));
      } catch {
        this.tally('no answer');
        this.result.unanswered.push(sent);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Resolves once `n` more answers (of any kind) came back, the load has run out, or after `timeoutMs`. */
  async answers(n: number, timeoutMs = 30_000): Promise<void> {
    const total = () => [...this.result.statuses.values()].reduce((a, b) => a + b, 0);
    const goal = total() + n;
    const deadline = Date.now() + timeoutMs;
    const running = () => !this.stopped && this.finished < this.clients.length;
    while (total() < goal && Date.now() < deadline && running()) await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<LoadResult> {
    this.stopped = true;
    await Promise.all(this.clients);
    return this.result;
  }

  /** Sends every unanswered write once more, with its Idempotency-Key; returns the replies. */
  async retryUnanswered(): Promise<{ sent: SentWrite; reply: Reply }[]> {
    const retried: { sent: SentWrite; reply: Reply }[] = [];
    for (const sent of this.result.unanswered) {
      const reply = await send(this.target, sent);
      retried.push({ sent, reply });
      this.record(sent, reply);
    }
    return retried;
  }
}

/** Every acknowledged write is in the store at the version it was answered with, as that very event. */
export function assertAcknowledgedStored(stored: Map<string, StoredRow[]>, result: LoadResult): void {
  for (const { sent, reply } of result.acknowledged) {
    const version = reply.body?.version as number;
    const event = stored.get(sent.id)?.[version - 1];
    assert.ok(event, `acknowledged ${sent.kind} of ${sent.id} (version ${version}) is in the event store`);
    assert.equal(event.type, sent.kind === 'restock' ? 'ProductRestocked' : 'StockReserved');
    assert.equal(event.metadata.correlationId, sent.correlation, `${sent.id} v${version} is the acknowledged write`);
    assert.equal(event.data.quantity, sent.quantity);
    assert.equal(event.data.stock, reply.body.stock);
    if (sent.reservationId) assert.equal(event.data.reservationId, sent.reservationId);
  }
}

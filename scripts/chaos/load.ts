import { randomUUID } from 'node:crypto';
import type { AckedWrite, WriteKind } from './checks.ts';
import type { AnswerTally } from './report.ts';

/**
 * The chaos run's steady mixed write load: creates, price changes, restocks and reservations, each
 * with an Idempotency-Key (also its X-Correlation-Id), from a bounded number of writers that pause
 * after each answer. Every answer is tallied; a 2xx is remembered as acknowledged with the version it
 * carried; a write without a definitive answer (no answer at all, a 503, a key still in flight) is
 * kept and resent later with the same key, as a client would.
 */

export interface Target {
  url: string;
  token: string;
}

export interface Write {
  seq: number;
  key: string;
  kind: WriteKind;
  productId: string;
  method: 'POST' | 'PUT';
  path: string;
  body: Record<string, unknown>;
}

export interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown> | undefined;
}

/** The mix, by write number: 1 create, 3 price changes, 3 restocks, 3 reservations in every 10. */
export function kindOf(seq: number): WriteKind {
  const slot = seq % 10;
  if (slot === 0) return 'create';
  if (slot <= 3) return 'price';
  if (slot <= 6) return 'restock';
  return 'reserve';
}

/**
 * The request for write `seq`. Prices are 100 + seq minor units: unique across the run, so a price
 * change never equals the current price (which would append nothing).
 */
export function buildWrite(runId: string, seq: number, kind: WriteKind, productId: string): Write {
  const key = `chaos-${runId}-${seq}`;
  switch (kind) {
    case 'create':
      return {
        seq,
        key,
        kind,
        productId,
        method: 'POST',
        path: '/products',
        body: {
          id: productId,
          sku: `CHAOS-${runId}-${seq}`,
          name: `Chaos product ${seq}`,
          price: { amount: 100 + seq, currency: 'EUR' },
          initialStock: 1_000_000,
        },
      };
    case 'price':
      return {
        seq,
        key,
        kind,
        productId,
        method: 'PUT',
        path: `/products/${productId}/price`,
        body: { amount: 100 + seq, currency: 'EUR' },
      };
    case 'restock':
      return {
        seq,
        key,
        kind,
        productId,
        method: 'POST',
        path: `/products/${productId}/stock/restock`,
        body: { quantity: 1 + (seq % 5) },
      };
    case 'reserve':
      return {
        seq,
        key,
        kind,
        productId,
        method: 'POST',
        path: `/products/${productId}/stock/reservations`,
        body: { quantity: 1 + (seq % 3), reservationId: `r-${key}` },
      };
  }
}

/** No answer at all: refused, reset, timed out. */
export class NoAnswer extends Error {
  override name = 'NoAnswer';
}

export async function send(target: Target, write: Write, timeoutMs: number): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${write.path}`, {
      method: write.method,
      headers: {
        authorization: `Bearer ${target.token}`,
        'content-type': 'application/json',
        'idempotency-key': write.key,
        'x-correlation-id': write.key,
      },
      body: JSON.stringify(write.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new NoAnswer(`${(error as Error).message}${cause?.code ? ` (${cause.code})` : ''}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new NoAnswer(`body: ${(error as Error).message}`);
  }
  let body: Record<string, unknown> | undefined;
  try {
    body = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

/** A definitive answer ends a write; anything else means "try again later with the same key". */
export function isDefinitive(answer: Answer): boolean {
  if (answer.status >= 500) return false;
  // 409 with the key still in flight (the first request runs); other 409s are business rules.
  if (answer.status === 409 && String(answer.body?.type ?? '').endsWith('idempotency-key-in-flight')) return false;
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the run remembers across rounds: the products, and the write numbering. */
export class LoadState {
  readonly runId = randomUUID().slice(0, 8);
  /** Products whose create was acknowledged: the targets of the other writes. */
  readonly products: string[] = [];
  /** Every product id a create was sent for, acknowledged or not: the ones whose events are checked. */
  readonly attempted = new Set<string>();
  /** Every acknowledged write of the run. */
  readonly acked: AckedWrite[] = [];
  seq = 0;

  next(): Write {
    const seq = this.seq++;
    let kind = kindOf(seq);
    if (kind !== 'create' && this.products.length === 0) kind = 'create';
    const productId =
      kind === 'create' ? randomUUID() : (this.products[Math.floor(Math.random() * this.products.length)] as string);
    if (kind === 'create') this.attempted.add(productId);
    return buildWrite(this.runId, seq, kind, productId);
  }
}

/** Answers by status, with the 5xx judged: a 503 with Retry-After is allowed during a fault, a 500 never is. */
export class AnswerCounts {
  readonly statuses = new Map<string, number>();
  status500 = 0;
  status503RetryAfter = 0;
  otherFivexx = 0;

  count(label: string): void {
    this.statuses.set(label, (this.statuses.get(label) ?? 0) + 1);
  }

  record(answer: Pick<Answer, 'status' | 'retryAfter'>): void {
    this.count(String(answer.status));
    if (answer.status === 500) this.status500 += 1;
    else if (answer.status === 503 && answer.retryAfter !== null) this.status503RetryAfter += 1;
    else if (answer.status >= 500) this.otherFivexx += 1;
  }

  get fivexx(): number {
    return this.status500 + this.status503RetryAfter + this.otherFivexx;
  }

  summary(): AnswerTally {
    return {
      statuses: Object.fromEntries(this.statuses),
      fivexx: this.fivexx,
      status500: this.status500,
      status503RetryAfter: this.status503RetryAfter,
      otherFivexx: this.otherFivexx,
    };
  }
}

/** Counts of one round: every answer by status, and the writes. */
export class RoundTally extends AnswerCounts {
  sent = 0;
  acknowledged = 0;
  acknowledgedOnRetry = 0;
  readonly rejected = new Map<string, number>();
  /** Writes waiting to be resent (no definitive answer yet). */
  readonly pending: Write[] = [];
  resent = 0;
  unresolved = 0;

  /** Tallies an answer; true when it is definitive. */
  answer(state: LoadState, write: Write, answer: Answer, retry: boolean): boolean {
    this.record(answer);
    if (!isDefinitive(answer)) return false;
    if (answer.status >= 200 && answer.status < 300) {
      this.acknowledged += 1;
      if (retry) this.acknowledgedOnRetry += 1;
      state.acked.push({
        key: write.key,
        productId: write.productId,
        kind: write.kind,
        version: Number(answer.body?.version),
      });
      if (write.kind === 'create' && !state.products.includes(write.productId)) state.products.push(write.productId);
    } else {
      this.rejected.set(String(answer.status), (this.rejected.get(String(answer.status)) ?? 0) + 1);
    }
    return true;
  }
}

export interface LoadOptions {
  concurrency: number;
  pauseMs: number;
  requestTimeoutMs: number;
}

/** Writers that run until `stop()`; each waits for its answer, then pauses. */
export class MixedLoad {
  private stopped = false;
  private readonly writers: Promise<void>[];

  constructor(
    private readonly target: () => Target,
    private readonly state: LoadState,
    private readonly tally: RoundTally,
    private readonly options: LoadOptions,
  ) {
    this.writers = Array.from({ length: options.concurrency }, () => this.writer());
  }

  private async writer(): Promise<void> {
    while (!this.stopped) {
      const write = this.state.next();
      this.tally.sent += 1;
      let definitive = false;
      try {
        definitive = this.tally.answer(
          this.state,
          write,
          await send(this.target(), write, this.options.requestTimeoutMs),
          false,
        );
      } catch (error) {
        if (!(error instanceof NoAnswer)) throw error;
        this.tally.count('no answer');
      }
      if (!definitive) this.tally.pending.push(write);
      // After a failure the pause is longer, so a down service is not hammered.
      await sleep(definitive ? this.options.pauseMs : Math.max(this.options.pauseMs, 250));
    }
  }

  /** Stops sending and waits for the writes in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.writers);
  }
}

/**
 * Resends every pending write with its own Idempotency-Key until each gets a definitive answer or
 * `timeoutMs` has passed, a few at a time, waiting as long as a Retry-After asks (at most 2 s).
 */
export async function resendPending(
  target: () => Target,
  state: LoadState,
  tally: RoundTally,
  {
    timeoutMs,
    requestTimeoutMs,
    concurrency = 4,
  }: { timeoutMs: number; requestTimeoutMs: number; concurrency?: number },
): Promise<void> {
  const queue = tally.pending.splice(0);
  tally.resent += queue.length;
  const deadline = Date.now() + timeoutMs;
  const worker = async () => {
    for (let write = queue.shift(); write; write = queue.shift()) {
      let done = false;
      while (!done && Date.now() < deadline) {
        let wait = 500;
        try {
          const answer = await send(target(), write, Math.min(requestTimeoutMs, Math.max(1, deadline - Date.now())));
          done = tally.answer(state, write, answer, true);
          const asked = Number(answer.retryAfter);
          if (Number.isFinite(asked) && asked > 0) wait = Math.min(asked * 1000, 2000);
        } catch (error) {
          if (!(error instanceof NoAnswer)) throw error;
          tally.count('no answer');
        }
        if (!done) await sleep(wait);
      }
      if (!done) tally.unresolved += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

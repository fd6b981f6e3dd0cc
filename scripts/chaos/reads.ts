import { AnswerCounts, type LoadState } from './load.ts';

/**
 * Readers beside the writers: every fault also hits the query service's reads, which must answer
 * 200, 404 (not projected yet) or a 503 with Retry-After, never a 500. They take turns over the four
 * kinds of read, so that some always reach MongoDB (price history, a product the projection does not
 * hold) and some are served from the projection's memory (a held product, a list page).
 */

export const READ_PATHS = [
  (id: string) => `/products/${id}`,
  (id: string) => `/products/${id}/price-history`,
  () => '/products?limit=20&sort=-updatedAt',
  () => '/stats',
] as const;

export class ReadTally extends AnswerCounts {
  sent = 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ReadLoad {
  private stopped = false;
  private readonly readers: Promise<void>[];

  constructor(
    private readonly queryUrl: string,
    private readonly state: LoadState,
    readonly tally: ReadTally,
    private readonly options: { concurrency: number; pauseMs: number; requestTimeoutMs: number },
  ) {
    this.readers = Array.from({ length: options.concurrency }, (_, i) => this.reader(i));
  }

  private async reader(first: number): Promise<void> {
    for (let turn = first; !this.stopped; turn += 1) {
      const { products } = this.state;
      const id = products[Math.floor(Math.random() * products.length)] ?? 'none-yet';
      const path = (READ_PATHS[turn % READ_PATHS.length] as (id: string) => string)(id);
      this.tally.sent += 1;
      let answered = false;
      try {
        const response = await fetch(`${this.queryUrl}${path}`, {
          headers: { 'x-correlation-id': `chaos-read-${this.state.runId}-${this.tally.sent}` },
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        await response.arrayBuffer();
        this.tally.record({ status: response.status, retryAfter: response.headers.get('retry-after') });
        answered = response.status < 500;
      } catch {
        // Refused, reset or timed out: the query service itself is down (a fault's target) or restarting.
        this.tally.count('no answer');
      }
      await sleep(answered ? this.options.pauseMs : Math.max(this.options.pauseMs, 250));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.readers);
  }
}

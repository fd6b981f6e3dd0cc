import type { AppendRequest, AppendResult } from '../infra/event-store/append.ts';

export type AppendBatch = (requests: readonly AppendRequest[]) => Promise<AppendResult[]>;

interface Unit {
  requests: readonly AppendRequest[];
  resolve: (value: { results: AppendResult[]; batchSize: number }) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the appends of every actor of one worker and writes them in as few transactions as
 * possible: while one transaction commits, the next batch fills up, so the batch size follows the
 * load by itself (one command alone is written at once; under load hundreds share a commit).
 * An actor's requests stay together and in order within one transaction.
 */
export class GroupCommitter {
  private readonly queue: Unit[] = [];
  private running = false;

  constructor(
    private readonly append: AppendBatch,
    private readonly maxBatch: number,
  ) {}

  submit(requests: readonly AppendRequest[]): Promise<{ results: AppendResult[]; batchSize: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ requests, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const units: Unit[] = [];
        let size = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0] as Unit;
          if (units.length > 0 && size + next.requests.length > this.maxBatch) break;
          units.push(this.queue.shift() as Unit);
          size += next.requests.length;
        }
        await this.commit(units, size);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(units: Unit[], size: number): Promise<void> {
    let results: AppendResult[];
    try {
      results = await this.append(units.flatMap((u) => u.requests));
    } catch (error) {
      // The whole transaction failed or its outcome is unknown: every command in it fails.
      for (const unit of units) unit.reject(error);
      return;
    }
    let offset = 0;
    for (const unit of units) {
      unit.resolve({ results: results.slice(offset, offset + unit.requests.length), batchSize: size });
      offset += unit.requests.length;
    }
  }
}

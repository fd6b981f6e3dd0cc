import type { AppendRequest, AppendResult } from '../infra/event-store/append.ts';

export type AppendBatch = (requests: readonly AppendRequest[]) => Promise<AppendResult[]>;

export interface GroupCommitOptions {
  /** Most requests written in one transaction. */
  maxBatch: number;
  /** Transactions in flight at once (each on its own connection). */
  concurrency: number;
  /** Requests waiting for a transaction beyond which `submit` sheds load instead of queueing. */
  maxQueued: number;
  /**
   * True when the append failed with a definite outcome (the database rolled the transaction
   * back), so the batch can be split and retried. Anything else (a lost connection) leaves the
   * outcome unknown: every command of the batch fails, and its actor rebuilds from the store.
   */
  rolledBack: (error: unknown) => boolean;
}

/** The committer's queue is full: nothing was sent, the caller may keep its state and answer 503. */
export class CommitterOverloaded extends Error {
  constructor(queued: number) {
    super(`${queued} requests already wait for a group commit`);
    this.name = 'CommitterOverloaded';
  }
}

interface Unit {
  requests: readonly AppendRequest[];
  resolve: (value: { results: AppendResult[]; batchSize: number }) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the appends of every actor of one worker and writes them in as few transactions as
 * the load needs: while `concurrency` transactions commit, the next batch fills up, so batch size
 * follows the load (one command alone is written at once; under load many share a commit).
 * Batches in flight together never hold two units of one actor: an actor submits its next unit
 * only after the previous one is answered, so per-product order holds across transactions.
 * A batch the database rejected as a whole is split in halves and retried, so one bad request
 * fails alone instead of failing every command it shared a transaction with.
 */
export class GroupCommitter {
  private readonly queue: Unit[] = [];
  private queued = 0;
  private inFlight = 0;

  constructor(
    private readonly append: AppendBatch,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(requests: readonly AppendRequest[]): Promise<{ results: AppendResult[]; batchSize: number }> {
    if (this.queued + requests.length > this.options.maxQueued) {
      return Promise.reject(new CommitterOverloaded(this.queued));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ requests, resolve, reject });
      this.queued += requests.length;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const units: Unit[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0] as Unit;
        if (units.length > 0 && size + next.requests.length > this.options.maxBatch) break;
        units.push(this.queue.shift() as Unit);
        size += next.requests.length;
      }
      this.queued -= size;
      this.inFlight += 1;
      void this.commit(units).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async commit(units: Unit[]): Promise<void> {
    const size = units.reduce((n, u) => n + u.requests.length, 0);
    let results: AppendResult[];
    try {
      results = await this.append(units.flatMap((u) => u.requests));
    } catch (error) {
      if (units.length > 1 && this.options.rolledBack(error)) {
        const half = Math.ceil(units.length / 2);
        await this.commit(units.slice(0, half));
        await this.commit(units.slice(half));
        return;
      }
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

/** Thrown by `Bulkhead.run` when the bulkhead's queue is full: the caller should answer 503. */
export class BulkheadFull extends Error {
  constructor(readonly bulkhead: string) {
    super(`${bulkhead}: too many requests in progress`);
    this.name = 'BulkheadFull';
  }
}

/**
 * Runs at most `limit` operations at once; up to `maxQueued` more wait their turn in order, and any
 * beyond that are refused at once. Refusing early is what keeps a flood of slow operations (a list
 * query that FerretDB answers by decoding the whole collection) from queueing up without bound and
 * holding the connections everything else needs long after their callers gave up.
 */
export class Bulkhead {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly limit: number,
    private readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active += 1;
    else if (this.waiting.length < this.maxQueued) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else throw new BulkheadFull(this.name);
    try {
      return await operation();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

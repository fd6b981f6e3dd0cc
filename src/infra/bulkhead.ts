/** Thrown by `Bulkhead.run` when the bulkhead's queue is full: the caller should answer 503. */
export class BulkheadFull extends Error {
  constructor(readonly bulkhead: string) {
    super(`${bulkhead}: too many requests in progress`);
    this.name = 'BulkheadFull';
  }
}

/**
 * Runs at most `limit` operations at once; up to `maxQueued` more wait their turn, and any beyond
 * that are refused at once. Refusing early is what keeps a flood of slow operations (a list query
 * that FerretDB answers by decoding the whole collection) from queueing up without bound and holding
 * the connections everything else needs long after their callers gave up.
 *
 * Waiting operations are served in turn by lane, first come first served within a lane: the
 * projection's partition actors share one bulkhead of MongoDB writes, and with one queue an actor
 * catching up on a large backlog put all of its writes ahead of the single write of every other
 * partition (head-of-line blocking); by lane, every partition gets the next free slot in turn.
 */
export class Bulkhead {
  private active = 0;
  private queued_ = 0;
  /** Lanes with operations waiting, in the order they are served next (a Map keeps insertion order). */
  private readonly lanes = new Map<string, (() => void)[]>();

  constructor(
    readonly name: string,
    private readonly limit: number,
    private readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(operation: () => Promise<T>, lane = ''): Promise<T> {
    if (this.active < this.limit) this.active += 1;
    else if (this.queued_ < this.maxQueued) await new Promise<void>((resolve) => this.enqueue(lane, resolve));
    else throw new BulkheadFull(this.name);
    try {
      return await operation();
    } finally {
      const next = this.dequeue();
      if (next) next();
      else this.active -= 1;
    }
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queued_;
  }

  private enqueue(lane: string, resolve: () => void): void {
    const waiting = this.lanes.get(lane);
    if (waiting) waiting.push(resolve);
    else this.lanes.set(lane, [resolve]);
    this.queued_ += 1;
  }

  /** The head of the lane whose turn it is; that lane goes to the back of the rotation. */
  private dequeue(): (() => void) | undefined {
    for (const [lane, waiting] of this.lanes) {
      const next = waiting.shift();
      this.lanes.delete(lane);
      if (waiting.length > 0) this.lanes.set(lane, waiting);
      if (next) {
        this.queued_ -= 1;
        return next;
      }
    }
    return undefined;
  }
}

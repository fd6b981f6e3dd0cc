/**
 * Read-your-writes without polling MongoDB in a tight loop: a partition actor announces each product
 * version right after its documents are written, and a reader waiting for a version wakes on the
 * announcement. Announcements are local to the process that owns the product's partition; a reader in
 * another process falls back to a slow re-read (the caller's `fallbackMs`).
 */
export class ProgressHub {
  private readonly waiters = new Map<string, Set<(version: number) => void>>();

  notify(aggregateId: string, version: number): void {
    const waiting = this.waiters.get(aggregateId);
    if (!waiting) return;
    this.waiters.delete(aggregateId);
    for (const wake of waiting) wake(version);
  }

  /**
   * Resolves with the announced version, or null after `timeoutMs`. Subscribe before reading the view,
   * so an announcement between the read and the wait is not missed.
   */
  next(aggregateId: string, timeoutMs: number): { promise: Promise<number | null>; cancel: () => void } {
    let wake!: (version: number | null) => void;
    const promise = new Promise<number | null>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => done(null), timeoutMs);
    const listener = (version: number) => done(version);
    const done = (version: number | null) => {
      clearTimeout(timer);
      const waiting = this.waiters.get(aggregateId);
      waiting?.delete(listener);
      if (waiting?.size === 0) this.waiters.delete(aggregateId);
      wake(version);
    };
    const waiting = this.waiters.get(aggregateId) ?? new Set();
    waiting.add(listener);
    this.waiters.set(aggregateId, waiting);
    return { promise, cancel: () => done(null) };
  }

  get waiting(): number {
    let count = 0;
    for (const set of this.waiters.values()) count += set.size;
    return count;
  }
}

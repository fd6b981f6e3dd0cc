import type { AppendRequest, AppendResult, IdempotencyRecord } from './append.ts';
import type { EventStore } from './event-store.ts';
import type { StoredEvent, StreamTail } from './read.ts';

/**
 * An event store in memory with the PostgreSQL store's contract (the same contract suite runs
 * against both): per-request outcomes, a failed request voids the later requests of its stream in
 * the batch, SKUs are unique, a taken idempotency key answers with its stored record. For unit tests of the actor runtime.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly skus = new Map<string, string>();
  private readonly keys = new Map<string, IdempotencyRecord>();
  private readonly snapshots = new Map<string, { version: number; state: unknown }>();
  private position = 0;
  /** Set to make the next append fail as a lost connection would. */
  failNextAppend: Error | undefined;
  appendCalls = 0;

  async appendBatch(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    this.appendCalls += 1;
    if (this.failNextAppend) {
      const error = this.failNextAppend;
      this.failNextAppend = undefined;
      throw error;
    }
    const poisoned = new Set<string>();
    return requests.map((request) => {
      if (poisoned.has(request.aggregateId)) return 'not-attempted';
      const result = this.tryOne(request);
      if (result !== 'ok') poisoned.add(request.aggregateId);
      return result;
    });
  }

  private tryOne(request: AppendRequest): AppendResult {
    const stream = this.streams.get(request.aggregateId) ?? [];
    const stored = request.idempotency && this.keys.get(request.idempotency.key);
    if (stored) return { replay: structuredClone(stored) };
    if (request.skuClaim !== undefined) {
      const owner = this.skus.get(request.skuClaim);
      if (owner !== undefined) return owner === request.aggregateId ? 'version-conflict' : 'sku-taken';
      if ([...this.skus.values()].includes(request.aggregateId)) return 'version-conflict';
    }
    let expected = stream.length + 1;
    for (const event of request.events) {
      if (event.version !== expected) return 'version-conflict';
      expected += 1;
    }
    for (const event of request.events) stream.push({ ...structuredClone(event), position: ++this.position });
    this.streams.set(request.aggregateId, stream);
    if (request.skuClaim !== undefined) this.skus.set(request.skuClaim, request.aggregateId);
    if (request.idempotency) {
      const { key, requestHash, outcome } = request.idempotency;
      this.keys.set(key, { requestHash, aggregateId: request.aggregateId, outcome: structuredClone(outcome) });
    }
    const snapshot = this.snapshots.get(request.aggregateId);
    if (request.snapshot && (snapshot?.version ?? 0) < request.snapshot.version) {
      this.snapshots.set(request.aggregateId, structuredClone(request.snapshot));
    }
    return 'ok';
  }

  /** Events appended so far, over every stream. */
  get eventCount(): number {
    return this.position;
  }

  async readStream(aggregateId: string, afterVersion = 0): Promise<StoredEvent[]> {
    return structuredClone((this.streams.get(aggregateId) ?? []).filter((e) => e.version > afterVersion));
  }

  async streamVersion(aggregateId: string): Promise<number> {
    return this.streams.get(aggregateId)?.length ?? 0;
  }

  async readTail(aggregateId: string): Promise<StreamTail> {
    const snapshot = this.snapshots.get(aggregateId);
    const events = (this.streams.get(aggregateId) ?? [])
      .filter((e) => e.version > (snapshot?.version ?? 0))
      .map(({ type, version, data }) => ({ type, version, data }));
    return structuredClone(snapshot ? { snapshot, events } : { events });
  }

  idempotencyRecord(key: string) {
    return this.keys.get(key);
  }
}

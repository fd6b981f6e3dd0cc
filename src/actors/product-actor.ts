import { threadId } from 'node:worker_threads';
import type { Envelope } from '../domain/envelope.ts';
import { decide, type ProductCommand } from '../domain/product/commands.ts';
import { PRODUCT_EVENT_SCHEMA_VERSION, type ProductEvent } from '../domain/product/events.ts';
import { evolve, initialState, type ProductState } from '../domain/product/state.ts';
import type { AppendRequest, AppendResult, IdempotencyRecord } from '../infra/event-store/append.ts';
import { CommitterOverloaded, type GroupCommitter } from './group-commit.ts';
import type { CommandOutcome, CommandTask, TaskResult } from './protocol.ts';

export interface ActorContext {
  committer: GroupCommitter;
  /** Current state from the event store (snapshot plus the events after it). */
  load: (productId: string) => Promise<ProductState>;
  /**
   * The stream's current version in the event store, to check a cached state before answering from
   * it alone. Without it the actor reloads the whole state for that check.
   */
  streamVersion?: (productId: string) => Promise<number>;
  now: () => Date;
  newEventId: () => string;
  maxBatch: number;
  /** Commands waiting in one mailbox beyond which new ones are shed (answered `overloaded`). */
  maxMailbox: number;
  conflictRetries: number;
  snapshotEvery: number;
  liveActors: () => number;
  /**
   * Where a failed read or commit is reported with the commands it failed. Clients get a generic
   * 503: a dependency's error text never reaches a response.
   */
  reportStoreError: (error: unknown, productId: string, correlationIds: string[]) => void;
}

interface Pending {
  task: CommandTask;
  attempts: number;
  resolve: (result: TaskResult) => void;
}

interface Step {
  pending: Pending;
  outcome: CommandOutcome;
  after: ProductState;
  /** How many events the command appends (0 for a rejection, a 412 or a no-op). */
  events: number;
  request?: number;
}

/**
 * One product's actor, living on the worker thread that owns the product id. Commands wait in its
 * mailbox and are handled strictly in order. Everything waiting when the actor becomes free is
 * decided in one go against the evolving in-memory state and persisted in one group commit, so a
 * hot product moves many commands per transaction. State changes only after the commit succeeds.
 * A version conflict (another process wrote this product) reloads the state and decides again, a
 * bounded number of times. A commit whose outcome is unknown drops the state: it is rebuilt from
 * the event store on the next command, never guessed.
 */
export class ProductActor {
  private state: ProductState | undefined;
  private readonly mailbox: Pending[] = [];
  private draining = false;
  lastActive = Date.now();

  constructor(
    readonly productId: string,
    private readonly ctx: ActorContext,
  ) {}

  get idle(): boolean {
    return !this.draining && this.mailbox.length === 0;
  }

  tell(task: CommandTask): Promise<TaskResult> {
    if (this.mailbox.length >= this.ctx.maxMailbox) {
      return Promise.resolve(this.result(overloaded(`${this.mailbox.length} commands wait for this product`), 0));
    }
    return new Promise((resolve) => {
      this.mailbox.push({ task, attempts: 0, resolve });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.mailbox.length > 0) {
        await this.handle(this.mailbox.splice(0, this.ctx.maxBatch));
      }
    } finally {
      this.draining = false;
      this.lastActive = Date.now();
    }
  }

  private result(outcome: CommandOutcome, batchSize: number, appended = false): TaskResult {
    return { outcome, appended, batchSize, liveActors: this.ctx.liveActors(), workerId: threadId };
  }

  private reply(pending: Pending, outcome: CommandOutcome, batchSize: number, appended = false): void {
    pending.resolve(this.result(outcome, batchSize, appended));
  }

  private replyReplay(pending: Pending, record: IdempotencyRecord, batchSize: number): void {
    pending.resolve({ ...this.result(record.outcome as CommandOutcome, batchSize), replay: record });
  }

  /** A store failure: every command given answers 503 (the error itself goes to the log). */
  private fail(pendings: Pending[], error: unknown): void {
    this.ctx.reportStoreError(
      error,
      this.productId,
      pendings.map((p) => p.task.metadata.correlationId),
    );
    for (const p of pendings) this.reply(p, unavailable, 0);
  }

  private async handle(batch: Pending[]): Promise<void> {
    let pending = batch;
    // Whether the state was read from the event store during this batch (else it is a cached copy).
    let fresh = false;
    while (pending.length > 0) {
      if (!this.state && isFirstCreate(pending)) {
        // A create needs no read: the unique version-1 row and the SKU claim reject it if the
        // product exists, and only then does the actor load and decide again.
        this.state = initialState;
      } else if (!this.state) {
        try {
          this.state = await this.ctx.load(this.productId);
          fresh = true;
        } catch (error) {
          this.fail(pending, error);
          return;
        }
      }
      const { steps, requests } = this.plan(pending, this.state);
      if (!fresh && answeredFromStateAlone(steps)) {
        // Another process may have written this product since the state was cached. An append's
        // version check catches that, but a rejection, a 412 or a no-op is answered with no event
        // appended, so the cached version is checked against the store first.
        try {
          fresh = true;
          if ((await this.currentVersion()) !== this.state.version) {
            this.state = undefined;
            continue;
          }
        } catch (error) {
          this.state = undefined;
          this.fail(pending, error);
          return;
        }
      }
      if (requests.length === 0) {
        for (const step of steps) this.reply(step.pending, step.outcome, 0);
        this.state = steps.at(-1)?.after ?? this.state;
        return;
      }
      let results: AppendResult[];
      let batchSize: number;
      try {
        ({ results, batchSize } = await this.ctx.committer.submit(requests));
      } catch (error) {
        if (error instanceof CommitterOverloaded) {
          // Nothing was sent: the state is still the store's.
          for (const p of pending) this.reply(p, overloaded(error.message), 0);
          return;
        }
        this.state = undefined;
        this.fail(pending, error);
        return;
      }
      pending = this.settle(steps, results, batchSize);
    }
  }

  private async currentVersion(): Promise<number> {
    if (this.ctx.streamVersion) return this.ctx.streamVersion(this.productId);
    return (await this.ctx.load(this.productId)).version;
  }

  /** Decides every waiting command in order, each against the state the previous ones leave. */
  private plan(pending: Pending[], start: ProductState): { steps: Step[]; requests: AppendRequest[] } {
    const steps: Step[] = [];
    const requests: AppendRequest[] = [];
    let state = start;
    for (const p of pending) {
      const { task } = p;
      const before = state;
      let outcome: CommandOutcome;
      let events: ProductEvent[] = [];
      // RFC 9110 section 13.2.1: a precondition is not evaluated when the request fails without it;
      // a write to a product that does not exist is a 404, whatever If-Match says.
      const unknownProduct = state.status === 'empty' && task.command.type !== 'CreateProduct';
      if (task.expectedVersion !== undefined && task.expectedVersion !== state.version && !unknownProduct) {
        outcome = {
          ok: false,
          code: 'precondition-failed',
          detail: `If-Match expects version ${task.expectedVersion}, the product is at version ${state.version}`,
          currentVersion: state.version,
        };
      } else {
        const decision = decide(task.command, state);
        if (decision.ok) {
          events = decision.events;
          for (const event of events) state = evolve(state, event);
          outcome = success(task.command, state);
        } else {
          outcome = {
            ok: false,
            code: decision.rejection.code,
            detail: decision.rejection.detail,
            currentVersion: state.version,
          };
        }
      }
      const step: Step = { pending: p, outcome, after: state, events: events.length };
      if (events.length > 0 || task.idempotency) {
        step.request = requests.length;
        requests.push(this.appendRequest(task, before, state, events, outcome));
      }
      steps.push(step);
    }
    return { steps, requests };
  }

  private appendRequest(
    task: CommandTask,
    before: ProductState,
    after: ProductState,
    events: ProductEvent[],
    outcome: CommandOutcome,
  ): AppendRequest {
    const occurredAt = this.ctx.now().toISOString();
    const envelopes: Envelope[] = events.map((event, i) => ({
      eventId: this.ctx.newEventId(),
      type: event.type,
      aggregateId: this.productId,
      version: before.version + i + 1,
      occurredAt,
      schemaVersion: PRODUCT_EVENT_SCHEMA_VERSION,
      data: event.data,
      metadata: task.metadata,
    }));
    const request: AppendRequest = { aggregateId: this.productId, events: envelopes };
    if (task.command.type === 'CreateProduct' && events.length > 0) request.skuClaim = task.command.data.sku;
    if (task.idempotency) request.idempotency = { ...task.idempotency, outcome };
    const every = this.ctx.snapshotEvery;
    if (events.length > 0 && Math.floor(after.version / every) > Math.floor(before.version / every)) {
      request.snapshot = { version: after.version, state: after };
    }
    return request;
  }

  /**
   * Answers the commands whose fate the commit decided and returns those to decide again. Results
   * of one actor form a prefix of successes: the event store stops at this stream's first failure.
   */
  private settle(steps: Step[], results: AppendResult[], batchSize: number): Pending[] {
    const failedAt = steps.findIndex((s) => s.request !== undefined && results[s.request] !== 'ok');
    const settled = failedAt === -1 ? steps : steps.slice(0, failedAt);
    for (const step of settled) this.reply(step.pending, step.outcome, batchSize, step.events > 0);
    if (failedAt === -1) {
      this.state = steps.at(-1)?.after ?? this.state;
      return [];
    }
    const failed = steps[failedAt] as Step;
    this.state = failedAt === 0 ? undefined : (steps[failedAt - 1] as Step).after;
    const result = results[failed.request as number];
    const retry: Pending[] = [];
    if (result === 'sku-taken') {
      const sku = failed.pending.task.command.type === 'CreateProduct' ? failed.pending.task.command.data.sku : '';
      this.reply(
        failed.pending,
        { ok: false, code: 'sku-taken', detail: `SKU ${sku} belongs to another product` },
        batchSize,
      );
    } else if (typeof result === 'object') {
      this.replyReplay(failed.pending, result.replay, batchSize);
    } else {
      // A conflict means another writer moved the stream: what this actor holds is stale.
      this.state = undefined;
      retry.push(failed.pending);
    }
    for (const step of steps.slice(failedAt + 1)) retry.push(step.pending);
    return retry.filter((p) => {
      p.attempts += 1;
      if (p.attempts <= this.ctx.conflictRetries) return true;
      this.reply(
        p,
        { ok: false, code: 'version-conflict', detail: `still conflicting after ${this.ctx.conflictRetries} retries` },
        batchSize,
      );
      return false;
    });
  }
}

/**
 * True when some command's answer rests on the starting state alone: it appends no event, and no
 * event of an earlier command in the batch (whose append checks the version) vouches for that state.
 */
function answeredFromStateAlone(steps: readonly Step[]): boolean {
  // The first command that appends events vouches for every later one; before it, none does.
  return steps.length > 0 && steps[0]?.events === 0;
}

/** The first attempt of a create heading the mailbox: decided against the empty state without a read. */
const isFirstCreate = (pending: Pending[]): boolean =>
  pending[0]?.task.command.type === 'CreateProduct' && pending[0].attempts === 0;

function success(command: ProductCommand, state: ProductState): CommandOutcome {
  const stock = state.status === 'empty' ? 0 : state.stock;
  return command.type === 'ReserveStock'
    ? { ok: true, version: state.version, stock, reservationId: command.data.reservationId }
    : { ok: true, version: state.version, stock };
}

const unavailable: CommandOutcome = {
  ok: false,
  code: 'unavailable',
  detail: 'the event store did not confirm the write; retry with the same Idempotency-Key',
};

const overloaded = (why: string): CommandOutcome => ({
  ok: false,
  code: 'overloaded',
  detail: `too many commands in flight (${why}); retry later`,
});

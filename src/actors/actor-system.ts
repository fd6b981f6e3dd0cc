import { Piscina } from 'piscina';
import { slotOf } from './key-routing.ts';
import type { CommandTask, TaskResult } from './protocol.ts';
import type { WorkerSettings } from './worker.ts';

interface RoutedBatch {
  tasks: CommandTask[];
  [Piscina.queueOptionsSymbol]: { slot: number };
}

interface Waiting {
  task: CommandTask;
  resolve: (result: TaskResult) => void;
  reject: (error: unknown) => void;
}

/** Too many commands are in flight in this process: shed the new one (503) instead of queueing it. */
export class ActorSystemOverloaded extends Error {
  constructor(inFlight: number) {
    super(`${inFlight} commands are already in flight`);
    this.name = 'ActorSystemOverloaded';
  }
}

/**
 * The HTTP thread's handle on the actors: a fixed pool of worker threads and a key-affine load
 * balancer, so every command for one product id goes to the same worker, where its actor lives.
 *
 * Commands are handed over in batches: everything dispatched to one worker during one turn of
 * the event loop travels as one piscina task (one postMessage each way instead of one per
 * command, which cost the HTTP thread about a quarter of its time). The batch's results come back
 * together; the commands of one turn mostly share a group commit anyway.
 *
 * piscina facts this relies on: the balancer sees the task's queue options, not its payload, so
 * the slot travels under `Piscina.queueOptionsSymbol`; atomics are disabled because workers do
 * asynchronous I/O; min = max threads so slots do not move while the pool grows or shrinks. If a
 * worker dies, piscina replaces it; meanwhile its slots map onto the remaining workers, whose
 * actors load from the event store, and the version check keeps any stale copy from writing.
 */
export class ActorSystem {
  private readonly pool: Piscina<RoutedBatch, TaskResult[]>;
  private readonly pending = new Map<number, Waiting[]>();
  private flushScheduled = false;
  private inFlight = 0;

  constructor(
    private readonly threads: number,
    settings: WorkerSettings,
    private readonly maxInFlight: number,
    /** Called with the number of commands of each batch handed to a worker (a metric). */
    private readonly onHandoff: (commands: number) => void = () => {},
  ) {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    this.pool = new Piscina({
      filename: new URL(`./worker${ext}`, import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
      // A worker holds many commands at once: that concurrency is what group commit batches.
      concurrentTasksPerWorker: 100_000,
      maxQueue: Number.POSITIVE_INFINITY,
      workerData: settings,
      loadBalancer: (task, workers) => {
        const live = workers.filter((w) => !w.terminating && !w.destroyed).sort((a, b) => a.id - b.id);
        const slot = (task as unknown as Record<symbol, { slot?: number } | null>)[Piscina.queueOptionsSymbol]?.slot;
        if (live.length === 0 || slot === undefined) return null;
        return live[slot % live.length] ?? null;
      },
    });
  }

  dispatch(task: CommandTask): Promise<TaskResult> {
    if (this.inFlight >= this.maxInFlight) return Promise.reject(new ActorSystemOverloaded(this.inFlight));
    this.inFlight += 1;
    return new Promise<TaskResult>((resolve, reject) => {
      const slot = slotOf(task.productId, this.threads);
      const waiting = this.pending.get(slot);
      if (waiting) waiting.push({ task, resolve, reject });
      else this.pending.set(slot, [{ task, resolve, reject }]);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after the poll phase, so every request parsed in this turn joins.
        setImmediate(() => this.flush());
      }
    }).finally(() => {
      this.inFlight -= 1;
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [slot, waiting] of this.pending) {
      this.onHandoff(waiting.length);
      const batch = { tasks: waiting.map((w) => w.task), [Piscina.queueOptionsSymbol]: { slot } } as RoutedBatch;
      this.pool.run(batch).then(
        (results) => {
          for (const [i, w] of waiting.entries()) {
            const result = results[i];
            if (result) w.resolve(result);
            else w.reject(new Error(`the worker answered ${results.length} results for ${waiting.length} commands`));
          }
        },
        (error: unknown) => {
          for (const w of waiting) w.reject(error);
        },
      );
    }
    this.pending.clear();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

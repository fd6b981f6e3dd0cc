import { Piscina } from 'piscina';
import { slotOf } from './key-routing.ts';
import type { CommandTask, TaskResult } from './protocol.ts';
import type { WorkerSettings } from './worker.ts';

interface RoutedTask extends CommandTask {
  [Piscina.queueOptionsSymbol]: { key: string };
}

/**
 * The HTTP thread's handle on the actors: a fixed pool of worker threads and a key-affine load
 * balancer, so every command for one product id goes to the same worker, where its actor lives.
 *
 * piscina facts this relies on: the balancer sees the task's queue options, not its payload, so
 * the key travels under `Piscina.queueOptionsSymbol`; atomics are disabled because workers do
 * asynchronous I/O; min = max threads so slots do not move while the pool grows or shrinks. If a
 * worker dies, piscina replaces it; meanwhile its keys map onto the remaining workers, whose
 * actors load from the event store, and the version check keeps any stale copy from writing.
 */
export class ActorSystem {
  private readonly pool: Piscina<CommandTask, TaskResult>;

  constructor(threads: number, settings: WorkerSettings) {
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
        const key = (task as unknown as Record<symbol, { key?: string } | null>)[Piscina.queueOptionsSymbol]?.key;
        if (live.length === 0 || key === undefined) return null;
        return live[slotOf(key, live.length)] ?? null;
      },
    });
  }

  dispatch(task: CommandTask): Promise<TaskResult> {
    const routed = { ...task, [Piscina.queueOptionsSymbol]: { key: task.productId } } as RoutedTask;
    return this.pool.run(routed);
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

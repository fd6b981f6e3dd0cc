import type { ProjectionSettings } from './live-projections.ts';
import { beginRebuild, type RebuildDeps, RebuildInProgressError, type RebuildProgress } from './rebuild.ts';

/**
 * A rebuild from the event store started from the admin API, running in the background of the query
 * service (which reads the event store through DATABASE_URL for it).
 */
export class RebuildJob {
  progress: RebuildProgress | null = null;
  private running = false;

  constructor(
    private readonly settings: ProjectionSettings,
    private readonly deps: RebuildDeps,
  ) {}

  /** Starts a rebuild; resolves with its generation once it holds the lock. */
  async start(): Promise<number> {
    if (this.running) throw new RebuildInProgressError('this process');
    this.running = true;
    try {
      const handle = await beginRebuild(this.settings, this.deps, (progress) => {
        this.progress = progress;
      });
      handle.finished
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'rebuild failed; the current views stay'))
        .finally(() => {
          this.running = false;
        });
      return handle.generation;
    } catch (error) {
      this.running = false;
      throw error;
    }
  }
}

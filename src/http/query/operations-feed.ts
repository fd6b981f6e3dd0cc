import type { Logger } from '../../infra/logger.ts';
import { Counter, Gauge, type Registry } from '../../infra/metrics.ts';
import type { DeadLetterView } from '../../projections/operations/dead-letter.ts';
import type { OperationsMonitor } from '../../projections/operations/monitor.ts';
import { EventStreamHub, sseEvent, sseRetry } from './event-stream.ts';

/** What the feed needs of the dead-letter topic's reader (DeadLetterTail). */
export interface DeadLetterSource {
  ensureStarted(): void;
  readonly ready: boolean;
  readonly version: number;
  readonly perPartition: number;
  views(): DeadLetterView[];
}

/** The `dead-letters` event: the latest letters, newest first, and how many of each reason are held. */
export interface DeadLettersEvent {
  ready: boolean;
  perPartition: number;
  held: number;
  byReason: Record<string, number>;
  letters: DeadLetterView[];
}

export interface OperationsFeedOptions {
  /** Sampling interval while at least one stream is open. */
  watchedIntervalMs: number;
  /** Sampling interval with none open, so that the charts have a past when a console opens. */
  idleIntervalMs: number;
  /** Browser reconnection delay (the `retry:` field). */
  retryMs: number;
  maxStreams: number;
  maxQueuedBytes: number;
  /** Dead letters a `dead-letters` event lists. */
  lettersShown: number;
}

export function deadLettersEvent(source: DeadLetterSource, shown: number): DeadLettersEvent {
  const views = source.views();
  const byReason: Record<string, number> = {};
  for (const view of views) byReason[view.reason] = (byReason[view.reason] ?? 0) + 1;
  return {
    ready: source.ready,
    perPartition: source.perPartition,
    held: views.length,
    byReason,
    letters: views.slice(0, shown),
  };
}

/**
 * GET /projections/stream, built to cost the same for 1 or 100 open consoles: one timer samples the
 * projection (OperationsMonitor), each event is serialized once and the same bytes go to every
 * stream (EventStreamHub), and each stream's backlog is bounded. A stream opens with `retry:`, the
 * charts' history, the last status and the dead letters, so a browser that reconnects (after a
 * restart of the service, say) has the whole picture again at once; `status` events carry ids.
 */
export class OperationsFeed {
  private readonly hub: EventStreamHub;
  private readonly retry: Uint8Array;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private stopped = false;
  private sequence = 0;
  private lastStatus: Uint8Array | undefined;
  private lastLetters: Uint8Array | undefined;
  private lettersVersion = -1;
  private history: { sequence: number; frame: Uint8Array } | undefined;

  constructor(
    private readonly deps: {
      monitor: OperationsMonitor;
      deadLetters: DeadLetterSource;
      registry: Registry;
      logger: Logger;
    },
    private readonly options: OperationsFeedOptions,
  ) {
    const registers = [deps.registry];
    const open = new Gauge({ name: 'console_streams_open', help: 'Open operations console streams', registers });
    const closed = new Counter({
      name: 'console_streams_closed_total',
      help: 'Operations console streams ended, by why: client (gone), slow (dropped), shutdown',
      labelNames: ['why'],
      registers,
    });
    this.hub = new EventStreamHub({
      maxStreams: options.maxStreams,
      maxQueuedBytes: options.maxQueuedBytes,
      onOpen: () => open.inc(),
      onClose: (why) => {
        open.dec();
        closed.inc({ why });
      },
    });
    this.retry = sseRetry(options.retryMs);
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops sampling and ends every stream. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.hub.closeAll();
  }

  get streams(): number {
    return this.hub.size;
  }

  /** A new stream, or undefined when the limit of open streams is reached. */
  open(): ReadableStream<Uint8Array> | undefined {
    this.deps.deadLetters.ensureStarted();
    const initial = [this.retry, this.historyFrame()];
    if (this.lastStatus) initial.push(this.lastStatus);
    initial.push(this.lastLetters ?? this.lettersFrame());
    const stream = this.hub.open(initial);
    // The first console: sample now rather than at the end of an idle interval.
    if (stream && this.hub.size === 1) this.schedule(0);
    return stream;
  }

  private historyFrame(): Uint8Array {
    if (this.history?.sequence !== this.sequence) {
      this.history = { sequence: this.sequence, frame: sseEvent('history', this.deps.monitor.history()) };
    }
    return this.history.frame;
  }

  private lettersFrame(): Uint8Array {
    this.lettersVersion = this.deps.deadLetters.version;
    this.lastLetters = sseEvent('dead-letters', deadLettersEvent(this.deps.deadLetters, this.options.lettersShown));
    return this.lastLetters;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const status = await this.deps.monitor.sample();
      this.sequence += 1;
      this.lastStatus = sseEvent('status', status, String(this.sequence));
      this.hub.broadcast(this.lastStatus);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'sampling the projection for the console failed');
      this.hub.broadcast(
        sseEvent('unavailable', { at: new Date().toISOString(), detail: 'the projection status could not be read' }),
      );
    } finally {
      this.sampling = false;
    }
    if (this.deps.deadLetters.version !== this.lettersVersion) this.hub.broadcast(this.lettersFrame());
    this.schedule(this.hub.size > 0 ? this.options.watchedIntervalMs : this.options.idleIntervalMs);
  }
}

import { MongoClient } from 'mongodb';
import type { Logger } from './logger.ts';
import { pingMongo } from './mongo.ts';

export interface MongoWatchdogOptions {
  /** How often the watchdog looks. */
  intervalMs: number;
  /**
   * How long MongoDB must have answered fresh connections while the client still knew no server
   * before the client is reconnected: longer than the driver's own heartbeat (10 s), which is what
   * marks a returning server known again.
   */
  graceMs: number;
  /** Bound on a fresh connection's server selection, connect and ping. */
  probeTimeoutMs: number;
}

export interface MongoWatchdogDeps {
  logger: Logger;
  onReconnect?: () => void;
}

/**
 * Seen once in CI, with driver 7.9 against a restarted FerretDB: the query service's client kept
 * failing server selection with the error of a connection closed minutes before ("connection 5 to
 * 127.0.0.1:27017 closed"), for as long as the process lived, while FerretDB answered everyone else.
 * That is what a client whose server monitor stopped checking does: the server stays "Unknown" and
 * nothing marks it known again. Readiness stayed down, and nothing restarts a process that is alive.
 *
 * The watchdog follows the client's own view of the server (its SDAM events). While the client knows
 * no server, it tries a fresh client to the same URL. Once fresh clients have answered for `graceMs`
 * and the client still knows no server, the client is closed and connected again: the same object,
 * so every Db and Collection made from it carries on. While MongoDB is down the fresh clients fail
 * too, and nothing is touched. A busy client (a full pool, slow queries) still knows its server, so
 * load never triggers a reconnect. Make the watchdog right after the client's `connect()`: it learns
 * the client's view from the changes that follow.
 */
export class MongoWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  /** The client was connected when the watchdog started; every change of its view comes as an event. */
  private knowsServer = true;
  private answeringSince: number | undefined;
  private readonly log: Logger;

  constructor(
    private readonly client: MongoClient,
    private readonly url: string,
    private readonly options: MongoWatchdogOptions,
    private readonly deps: MongoWatchdogDeps,
  ) {
    this.log = deps.logger.child({ component: 'mongodb-watchdog' });
    client.on('topologyDescriptionChanged', (event) => {
      this.knowsServer = event.newDescription.hasKnownServers;
    });
    client.on('topologyClosed', () => {
      this.knowsServer = false;
    });
  }

  start(): void {
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => {
        this.checking = undefined;
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops looking; returns once a check (or a reconnect) in progress is over. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private async check(): Promise<void> {
    if (this.knowsServer || !(await this.freshClientAnswers())) {
      this.answeringSince = undefined;
      return;
    }
    this.answeringSince ??= Date.now();
    const answeringForMs = Date.now() - this.answeringSince;
    // The client may have caught up while the probe ran.
    if (this.knowsServer || answeringForMs < this.options.graceMs) return;
    this.log.warn(
      { answeringForMs },
      'MongoDB answers new connections but the client still knows no server; reconnecting it',
    );
    this.deps.onReconnect?.();
    this.answeringSince = undefined;
    await this.client.close();
    // A failed connect leaves the client closed: it knows no server, so the next checks try again.
    await this.client.connect().catch((error: unknown) => {
      this.log.warn({ err: error }, 'reconnecting the MongoDB client failed; the next check tries again');
    });
  }

  /** A fresh client's connect and ping: failing means MongoDB is down (or unreachable from here). */
  private async freshClientAnswers(): Promise<boolean> {
    const timeoutMs = this.options.probeTimeoutMs;
    const probe = new MongoClient(this.url, {
      appName: 'mongodb-watchdog',
      maxPoolSize: 1,
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
    });
    try {
      await probe.connect();
      await pingMongo(probe, timeoutMs);
      return true;
    } catch (error) {
      this.log.debug({ err: error }, 'a fresh MongoDB client does not answer either');
      return false;
    } finally {
      await probe.close();
    }
  }
}

import http from 'node:http';
import autocannon from 'autocannon';
import { Recorder } from './stats.ts';
import { classify, headersFor, type Outcome, type RequestSpec } from './workloads.ts';

/**
 * The load generator. Closed-loop runs against one host go through autocannon (its client costs
 * about half the CPU of node:http, which matters when generator and servers share two cores);
 * flows that need several hosts per iteration (write, then read the view) use node:http with
 * keep-alive agents. Every run is bounded in time, and in count where it has one.
 */

const benchStart = performance.now();

export function log(message: string): void {
  const seconds = ((performance.now() - benchStart) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[bench ${seconds}s] ${message}\n`);
}

const formatRate = (value: number) => Math.round(value).toLocaleString('en-US');

function startProgress(label: string, recorder: Recorder, everyMs: number, goal: string): NodeJS.Timeout {
  let lastCount = 0;
  let lastAt = performance.now();
  return setInterval(() => {
    const now = performance.now();
    const done = recorder.completed;
    const rate = (done - lastCount) / ((now - lastAt) / 1000);
    const elapsed = ((now - recorder.startedAt) / 1000).toFixed(0);
    log(
      `  ${label}: ${elapsed}s of ${goal}, ${done.toLocaleString('en-US')} done, ${formatRate(rate)}/s now, ${recorder.errors} errors`,
    );
    lastCount = done;
    lastAt = now;
  }, everyMs);
}

export interface ClosedLoopOptions {
  label: string;
  baseUrl: string;
  connections: number;
  token: string;
  next: () => RequestSpec;
  /** The trivial endpoint answers everything with 200; only HTTP success is checked there. */
  lenient: boolean;
  durationMs?: number;
  amount?: number;
  progressEveryMs: number;
  onOutcome?: (spec: RequestSpec, outcome: Outcome, body: string) => void;
}

/** Upper bound of a count-bounded run, so a stalled service cannot hang the bench. */
const AMOUNT_TIME_LIMIT_MS = 120_000;

export async function closedLoop(options: ClosedLoopOptions): Promise<Recorder> {
  const recorder = new Recorder();
  const connections = options.amount ? Math.min(options.connections, options.amount) : options.connections;
  const limitMs = options.amount ? AMOUNT_TIME_LIMIT_MS : (options.durationMs ?? 0);
  const instance = autocannon({
    url: options.baseUrl,
    connections,
    ...(options.amount ? { amount: options.amount } : { duration: limitMs / 1000 }),
    timeout: 10,
    requests: [
      {
        setupRequest: (request, context) => {
          const spec = options.next();
          context.spec = spec;
          return {
            ...request,
            method: spec.method,
            path: spec.path,
            headers: headersFor(spec, options.token),
            body: spec.body ?? '',
          };
        },
        onResponse: (status, body, context) => {
          const spec = context.spec as RequestSpec;
          const outcome = classify(spec, status, body, options.lenient);
          recorder.outcome(outcome.key, !outcome.ok && !outcome.expectedRejection);
          options.onOutcome?.(spec, outcome, body);
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => recorder.latency(ms));
  instance.on('reqError', () => recorder.outcome('transport error', true));
  const goal = options.amount ? `${options.amount.toLocaleString('en-US')} requests` : `${limitMs / 1000}s`;
  const progress = startProgress(options.label, recorder, options.progressEveryMs, goal);
  const guard = setTimeout(() => instance.stop(), limitMs + 15_000);
  try {
    await instance;
  } finally {
    clearInterval(progress);
    clearTimeout(guard);
  }
  return recorder;
}

export interface HttpAnswer {
  /** 0 when the exchange failed below HTTP (refused, reset, timed out). */
  status: number;
  body: string;
  ms: number;
}

/** A keep-alive client for one base URL; answers transport failures as status 0 instead of throwing. */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
    timeoutMs = 15_000,
  ): Promise<HttpAnswer> {
    const started = performance.now();
    return new Promise((resolve) => {
      const request = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: text, ms: performance.now() - started }),
          );
          response.on('error', (error) => resolve({ status: 0, body: error.message, ms: performance.now() - started }));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      request.on('error', (error) => resolve({ status: 0, body: error.message, ms: performance.now() - started }));
      request.end(body);
    });
  }

  send(spec: RequestSpec, token: string, timeoutMs?: number): Promise<HttpAnswer> {
    return this.request(spec.method, spec.path, headersFor(spec, token), spec.body, timeoutMs);
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface VuLoopOptions {
  label: string;
  vus: number;
  durationMs: number;
  progressEveryMs: number;
  recorder: Recorder;
  iteration: () => Promise<void>;
}

/** k6's constant-vus executor: each virtual user runs iterations back to back until the time is up. */
export async function vuLoop(options: VuLoopOptions): Promise<void> {
  const deadline = performance.now() + options.durationMs;
  const progress = startProgress(
    options.label,
    options.recorder,
    options.progressEveryMs,
    `${options.durationMs / 1000}s`,
  );
  try {
    await Promise.all(
      Array.from({ length: options.vus }, async () => {
        while (performance.now() < deadline) await options.iteration();
      }),
    );
  } finally {
    clearInterval(progress);
  }
}

export interface PacedLoopOptions {
  label: string;
  ratePerSecond: number;
  durationMs: number;
  /** Iterations allowed in flight; beyond it an iteration is skipped and counted, not queued. */
  maxInFlight: number;
  progressEveryMs: number;
  recorder: Recorder;
  iteration: () => Promise<void>;
}

/**
 * k6's constant-arrival-rate executor: starts iterations on a fixed schedule whatever the answers
 * take, so a slow service shows up as latency instead of silently lowering the rate. Returns how
 * many scheduled iterations were skipped because too many were in flight.
 */
export async function pacedLoop(options: PacedLoopOptions): Promise<{ started: number; skipped: number }> {
  const start = performance.now();
  const total = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
  const running = new Set<Promise<void>>();
  let started = 0;
  let skipped = 0;
  // An iteration that throws (a bug, not an answer) ends the run with its error: left unhandled
  // until the end, it killed the bench and left the baselines it started running.
  let failure: { error: unknown } | undefined;
  const progress = startProgress(
    options.label,
    options.recorder,
    options.progressEveryMs,
    `${options.durationMs / 1000}s`,
  );
  try {
    while (started + skipped < total && !failure) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.ratePerSecond) + 1);
      while (started + skipped < due) {
        if (running.size >= options.maxInFlight) {
          skipped++;
          continue;
        }
        started++;
        const task = options
          .iteration()
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => running.delete(task));
        running.add(task);
      }
      const nextAt = start + ((started + skipped) / options.ratePerSecond) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextAt - performance.now())));
    }
    await Promise.all(running);
    if (failure) throw failure.error;
  } finally {
    clearInterval(progress);
  }
  return { started, skipped };
}

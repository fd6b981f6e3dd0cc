import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/stack/paths.ts';
import { brokers, databaseUrl, eventTopic } from './env.ts';

/**
 * The command service as a child process, for integration tests: `node --import tsx
 * src/command-service.ts` on a free port with its own bearer token, against the tests' own database
 * and topic on the stack's PostgreSQL and Kafka (`env.ts`: DATABASE_URL, KAFKA_BROKERS and
 * KAFKA_TOPIC from the environment, which `npm test` sets, or the same test names).
 *
 * Every process started here is remembered: `stopAll()` (call it in `after`) stops what is still
 * running, and a process `exit` hook SIGKILLs anything left, so a failing test never leaks one.
 */

export interface Reply {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON (also problem+json), else undefined. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON a route answers and assert on it
  body: any;
  text: string;
}

/** Header values of `undefined` remove a default header (e.g. `{ authorization: undefined }`). */
export type RequestHeaders = Record<string, string | undefined>;

export interface RequestOptions {
  timeoutMs?: number;
}

export interface CommandService {
  url: string;
  port: number;
  token: string;
  pid: number;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** What the process wrote to stdout and stderr (the last 256 KiB), for diagnostics. */
  output(): string;
  /** Sends a signal to the service's process group (node and its esbuild helper). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /**
   * One HTTP request with the bearer token. A string body is sent as is; any other defined body as
   * JSON with `Content-Type: application/json`.
   */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: RequestHeaders,
    options?: RequestOptions,
  ): Promise<Reply>;
}

export interface StartOptions {
  /** A fixed port (a restart on the same address); a free one by default. */
  port?: number;
  /** A fixed bearer token (a restart keeps its configuration); a fresh one by default. */
  token?: string;
  /** Extra environment for the service. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function sendRequest(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: RequestHeaders = {},
  { timeoutMs = 30_000 }: RequestOptions = {},
): Promise<Reply> {
  const merged: RequestHeaders = {};
  if (token !== undefined) merged.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (typeof body === 'string') payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    merged['content-type'] = 'application/json';
  }
  for (const [name, value] of Object.entries(headers)) merged[name.toLowerCase()] = value;
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) if (value !== undefined) sent[name] = value;
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: sent,
      ...(payload !== undefined ? { body: payload } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${method} ${path}: ${(error as Error).message} (${cause?.code ?? ''} ${cause?.message ?? ''})`, {
      cause: error,
    });
  }
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  let parsed: unknown;
  if (/json/i.test(type) && text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

export async function startCommandService(options: StartOptions = {}): Promise<CommandService> {
  const port = options.port ?? (await freePort());
  const token = options.token ?? randomBytes(24).toString('base64url');
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/command-service.ts')], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC: eventTopic,
      HOST: '127.0.0.1',
      COMMAND_PORT: String(port),
      COMMAND_API_TOKENS: token,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
  if (child.pid === undefined) throw new Error('could not spawn the command service');
  running.add(child);
  let log = '';
  const keep = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > 256 * 1024) log = log.slice(-256 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal);
    });
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  const stop = async (graceMs = 15_000) => {
    if (gone()) return;
    signalGroup(child, 'SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timer])) === 'timeout') {
      signalGroup(child, 'SIGKILL');
      await exited;
    }
  };

  const service: CommandService = {
    url,
    port,
    token,
    pid: child.pid,
    exited,
    output: () => log,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      signalGroup(child, signal);
      if (signal === 'SIGKILL') await exited;
    },
    stop,
    request: (method, path, body, headers, requestOptions) =>
      sendRequest(url, token, method, path, body, headers, requestOptions),
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (gone()) throw new Error(`the command service exited before it was ready:\n${log}`);
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) return service;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(2000);
      throw new Error(`the command service on ${url} was not ready within the deadline:\n${log}`);
    }
    await sleep(200);
  }
}

/** Stops every command service this process started and that still runs (for `after`). */
export async function stopAll(graceMs = 15_000): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          signalGroup(child, 'SIGTERM');
          setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs).unref();
        }),
    ),
  );
}

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { brokers, eventually, mongoUrl } from '../../../support/env.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

export const ADMIN_TOKEN = 'query-test-admin-token-0123456789';

/** The test's own MongoDB database on the stack's server. */
export function mongoUrlFor(database: string): string {
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface QueryService {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for the exit (SIGKILL after 20 s). */
  stop: () => Promise<void>;
  /** SIGKILL: no shutdown, nothing flushed. */
  kill: () => Promise<void>;
}

export interface QueryServiceOptions {
  topic: string;
  deadLetterTopic: string;
  group: string;
  database: string;
  partitions: number;
  port?: number;
  env?: Record<string, string>;
  /** Wait for /health/ready (default true). */
  ready?: boolean;
}

/** Starts `src/query-service.ts` as a child process with its own port, topic, group and database. */
export async function startQueryService(options: QueryServiceOptions): Promise<QueryService> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/query-service.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      QUERY_PORT: String(port),
      MONGO_URL: mongoUrlFor(options.database),
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC: options.topic,
      KAFKA_DEAD_LETTER_TOPIC: options.deadLetterTopic,
      KAFKA_CONSUMER_GROUP: options.group,
      KAFKA_PARTITIONS: String(options.partitions),
      KAFKA_REPLICATION_FACTOR: process.env.KAFKA_REPLICATION_FACTOR ?? '3',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ADMIN_API_TOKENS: ADMIN_TOKEN,
      LOG_LEVEL: process.env.QUERY_TEST_LOG_LEVEL ?? 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const service: QueryService = {
    url,
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  if (options.ready !== false) {
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`query service exited (${child.exitCode}):\n${output}`);
          const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
          return response.status === 200;
        },
        { timeoutMs: 90_000, intervalMs: 250, what: 'the query service to be ready' },
      );
    } catch (error) {
      await service.kill();
      throw new Error(`${(error as Error).message}\n--- service output ---\n${output.slice(-4000)}`);
    }
  }
  return service;
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(20_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}

/** List pages a query service answered from its projection's memory (`query_view_reads_total`). */
export async function listPagesFromMemory(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => /^query_view_reads_total\{.*kind="list".*source="memory"/.test(l));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/**
 * Waits until the service answers list pages from memory again. An actor whose MongoDB write failed
 * (FerretDB slowed down by the queries that earlier tests' killed services left running) lets its
 * documents go, and the service lists from MongoDB until the actor has reloaded.
 */
export async function untilListsFromMemory(url: string): Promise<void> {
  try {
    await eventually(
      async () => {
        const before = await listPagesFromMemory(url);
        await (await fetch(`${url}/products?limit=1`)).arrayBuffer();
        return (await listPagesFromMemory(url)) > before;
      },
      { timeoutMs: 60_000, what: 'list pages served from memory' },
    );
  } catch (error) {
    // Which partition kept memory from answering (paused, reloading, not owned) is in the status.
    const status = await fetch(`${url}/projections`, { signal: AbortSignal.timeout(5000) })
      .then((response) => response.text())
      .catch((cause: unknown) => `unavailable: ${(cause as Error).message}`);
    throw new Error(`${(error as Error).message}; the service's /projections: ${status.slice(0, 4000)}`);
  }
}

const MEMORY_WALK_ATTEMPTS = 5;

/**
 * Runs `walk` (one pagination through the service, returning its pages) until one run was answered
 * wholly from memory, and returns that run's pages. A member's memory stops answering for a while
 * when an actor reloads or its lease lapses (on the shared CI machine, now and then mid-walk); the
 * tests that compare memory's pages with MongoDB's need a walk that memory answered throughout.
 */
export async function walkFromMemory(url: string, walk: () => Promise<string[][]>): Promise<string[][]> {
  const counts: string[] = [];
  for (let attempt = 1; attempt <= MEMORY_WALK_ATTEMPTS; attempt++) {
    await untilListsFromMemory(url);
    const before = await listPagesFromMemory(url);
    const pages = await walk();
    const fromMemory = (await listPagesFromMemory(url)) - before;
    if (fromMemory === pages.length) return pages;
    counts.push(`${fromMemory}/${pages.length}`);
  }
  throw new Error(
    `no walk came wholly from memory in ${MEMORY_WALK_ATTEMPTS} attempts (pages from memory: ${counts.join(', ')})`,
  );
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import postgres from 'postgres';
import { kafkaVersion } from '../scripts/stack/paths.ts';
import { LAG_FIELDS, sumFields } from './checks.ts';
import { log } from './generator.ts';
import type { Machine } from './report.ts';

/** What the bench needs from the running stack: where it is, its token, its readiness, its lag. */

export const repoRoot = resolve(import.meta.dirname, '..');

export const endpoints = {
  command: process.env.COMMAND_URL ?? 'http://127.0.0.1:8080',
  query: process.env.QUERY_URL ?? 'http://127.0.0.1:8081',
  database: process.env.DATABASE_URL ?? 'postgres://catalog:catalog@127.0.0.1:54329/catalog',
  mongo: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/catalog',
};

export function apiToken(): string {
  const fromEnv = process.env.COMMAND_API_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = join(repoRoot, '.stack', 'api-token');
  const fromFile = existsSync(file) ? readFileSync(file, 'utf8').split('\n')[0]?.trim() : undefined;
  if (fromFile) return fromFile;
  throw new Error(
    `no API token: set COMMAND_API_TOKEN or start the local stack (npm run up -- --detach) so that ${file} exists`,
  );
}

async function getJson(url: string, timeoutMs = 3000): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

export async function isReady(baseUrl: string): Promise<boolean> {
  try {
    return (await getJson(`${baseUrl}/health/ready`)).status === 200;
  } catch {
    return false;
  }
}

/** Checks every service's readiness at once, so one message names everything that is missing. */
export async function requireReady(services: Record<string, string>): Promise<void> {
  const missing: string[] = [];
  for (const [name, url] of Object.entries(services)) {
    if (!(await isReady(url))) missing.push(`${name} at ${url}/health/ready`);
  }
  if (missing.length > 0) {
    throw new Error(
      `not ready: ${missing.join('; ')}.\nStart the local stack first (npm run up -- --detach) or point ` +
        'COMMAND_URL / QUERY_URL at running services; --baselines-only measures the two baselines alone.',
    );
  }
}

export interface Baseline {
  url: string;
  /** Its node process, whose CPU the bench reads. */
  pid: number;
  stop(): Promise<void>;
}

/** Starts a baseline server as a child process and waits until it answers, bounded by `timeoutMs`. */
export async function startBaseline(
  name: string,
  script: string,
  port: number,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<Baseline> {
  const url = `http://127.0.0.1:${port}`;
  if (await isReady(url)) throw new Error(`port ${port} already answers: stop whatever runs there before the bench`);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'bench', 'baselines', script)],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error(`could not start the ${name} baseline`);
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
    }
  };
  const deadline = Date.now() + timeoutMs;
  log(`starting the ${name} baseline on ${url} (pid ${pid})`);
  while (!(await isReady(url))) {
    if (child.exitCode !== null) throw new Error(`the ${name} baseline exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the ${name} baseline did not become ready in ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  return { url, pid, stop };
}

export async function projectionLag(queryUrl: string): Promise<number | undefined> {
  try {
    const { status, json } = await getJson(`${queryUrl}/projections`);
    return status === 200 ? sumFields(json, LAG_FIELDS) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Partitions whose actor is still reading its products into its cache after a start (the query
 * service's `projection_cache_filling` gauge); undefined when the metrics do not answer.
 */
export async function partitionsFilling(queryUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${queryUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) return undefined;
    const text = await response.text();
    let filling = 0;
    for (const match of text.matchAll(/^projection_cache_filling\{[^}]*\} (\S+)$/gm)) filling += Number(match[1]);
    return filling;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the projections have consumed the backlog of the run before, so that run's
 * background work does not tax the next measurement, and until a freshly started query service has
 * read its partitions' products (it applies events meanwhile, slower: lookups by id, and FerretDB
 * busy with the reads). Bounded: a projection that cannot catch up in time is reported, not waited
 * for.
 */
export async function settle(queryUrl: string, maxMs: number): Promise<string> {
  const deadline = Date.now() + maxMs;
  let lag = await projectionLag(queryUrl);
  if (lag === undefined) return 'projection lag unknown (/projections did not answer with lag fields)';
  let filling = await partitionsFilling(queryUrl);
  let lastPrint = 0;
  while (((lag !== undefined && lag > 0) || (filling ?? 0) > 0) && Date.now() < deadline) {
    if (Date.now() - lastPrint >= 2000) {
      log(
        `  waiting for the projections to catch up: lag ${lag?.toLocaleString('en-US') ?? 'unknown'} events, ${filling ?? 'unknown'} partitions filling their caches`,
      );
      lastPrint = Date.now();
    }
    await new Promise((done) => setTimeout(done, 250));
    [lag, filling] = await Promise.all([projectionLag(queryUrl), partitionsFilling(queryUrl)]);
  }
  if (lag !== 0) return `still ${lag ?? 'an unknown number of'} events behind after ${maxMs / 1000} s`;
  return (filling ?? 0) > 0 ? `${filling} partitions still filling their caches after ${maxMs / 1000} s` : 'caught up';
}

async function postgresVersion(databaseUrl: string): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`SHOW server_version`;
    return row?.server_version ?? 'unknown';
  } catch (error) {
    log(`PostgreSQL version: ${(error as Error).message}`);
    return 'unreachable';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function mongoVersion(mongoUrl: string): Promise<string> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    return info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion} (wire ${info.version})` : `MongoDB ${info.version}`;
  } catch (error) {
    log(`MongoDB API version: ${(error as Error).message}`);
    return 'unreachable';
  } finally {
    await client.close();
  }
}

export async function machine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: await postgresVersion(endpoints.database),
    // Brokers do not report their version over the wire; KAFKA_VERSION overrides the local stack's pin.
    kafka: process.env.KAFKA_VERSION ?? `${kafkaVersion} (local stack pin)`,
    mongo: await mongoVersion(endpoints.mongo),
  };
}

/** How many events the event store holds: what a rebuild from the start of the topic replays. */
export async function eventCount(databaseUrl: string): Promise<number | undefined> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM events`;
    return row ? Number(row.n) : undefined;
  } catch {
    return undefined;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export function hasNpmScript(name: string): boolean {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return typeof manifest.scripts?.[name] === 'string';
}

export interface ChildRun {
  code: number | null;
  timedOut: boolean;
  seconds: number;
  lastLine: string;
}

/**
 * Runs a command in its own process group with its output shown line by line, and ends the whole
 * group (npm, tsx and the script) when `timeoutMs` passes.
 */
export function runChild(
  label: string,
  command: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let lastLine = '';
  const show = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim()) {
        lastLine = line.trim();
        log(`  ${label} | ${lastLine}`);
      }
    }
  };
  child.stdout?.on('data', show);
  child.stderr?.on('data', show);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // the group ended on its own in the meantime
    }
  }, timeoutMs);
  return new Promise((done) => {
    const finish = (code: number | null) => {
      clearTimeout(timer);
      done({ code, timedOut, seconds: (performance.now() - started) / 1000, lastLine });
    };
    child.once('exit', finish);
    child.once('error', (error) => {
      lastLine = error.message;
      finish(null);
    });
  });
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { log } from './generator.ts';
import { type ProcStat, parseProcStat, readStat, socketInodes, tcpPorts } from './proc.ts';
import type { CpuUsage, ProcessCpu } from './report.ts';

/**
 * CPU time per process during a measurement, read from /proc/<pid>/stat (utime + stime: every thread
 * of the process, exited ones included). PostgreSQL backends are found through pg_stat_activity and
 * come and go with their pools, so a measurement samples every few hundred milliseconds and keeps
 * each process's first and last reading.
 */

/**
 * One process by pid, or the PostgreSQL backends serving one client process: those of `database`
 * whose application_name starts with one of `applications` (any, when absent) and whose client port
 * is one of that process's sockets, so that another instance of the same service is not counted.
 */
export type Selector = { pid: number } | { database: string; applications?: readonly string[]; client: number };

export interface CpuGroup {
  name: string;
  /** Part of the target's own figure (its service and that service's database backends). */
  own: boolean;
  select: Selector;
}

export interface Backend {
  pid: number;
  database: string | null;
  application: string | null;
  /** null over a Unix socket, which ties the backend to no port. */
  clientPort: number | null;
}

/**
 * The group a backend's CPU belongs to: the first whose database, application prefix and client
 * process match. `clientPorts` holds the local TCP ports of each client process.
 */
export function groupOfBackend(
  backend: Backend,
  groups: readonly CpuGroup[],
  clientPorts: ReadonlyMap<number, ReadonlySet<number>>,
): string | undefined {
  return groups.find(({ select }) => {
    if (!('database' in select) || select.database !== backend.database) return false;
    const application = backend.application ?? '';
    if (select.applications && !select.applications.some((prefix) => application.startsWith(prefix))) return false;
    return backend.clientPort !== null && (clientPorts.get(select.client)?.has(backend.clientPort) ?? false);
  })?.name;
}

export interface Reading {
  group: string;
  stat: ProcStat;
}

export interface GroupTicks {
  ticks: number;
  processes: number;
}

/**
 * First and last readings of every process seen during a measurement. A process first seen after
 * the opening sample was born during the measurement (a pool opened a connection) and counts from
 * zero; one that vanished keeps its last reading.
 */
export class CpuLedger {
  private readonly processes = new Map<string, { group: string; first: number; last: number }>();
  private opened = false;

  record(readings: readonly Reading[]): void {
    for (const { group, stat } of readings) {
      const key = `${stat.pid}@${stat.startTime}`;
      const known = this.processes.get(key);
      if (known) known.last = stat.ticks;
      else this.processes.set(key, { group, first: this.opened ? 0 : stat.ticks, last: stat.ticks });
    }
    this.opened = true;
  }

  /** Ticks each group used since the opening sample, and how many processes it had. */
  totals(): Map<string, GroupTicks> {
    const totals = new Map<string, GroupTicks>();
    for (const { group, first, last } of this.processes.values()) {
      const total = totals.get(group) ?? { ticks: 0, processes: 0 };
      total.ticks += last - first;
      total.processes += 1;
      totals.set(group, total);
    }
    return totals;
  }
}

export interface CpuTotals {
  /** Up to the end of the measured run. */
  window: Map<string, GroupTicks>;
  /** Up to the end of the catch-up after it (the projections settling), when there was one. */
  total: Map<string, GroupTicks>;
  seconds: number;
  catchUpSeconds?: number;
}

/**
 * Turns a measurement's ticks into milliseconds per answered request; groups never seen are left
 * out. Without a single answer there is no per-request figure, only undefined.
 */
export function cpuUsage(
  groups: readonly CpuGroup[],
  totals: CpuTotals,
  requests: number,
  ticksPerSecond: number,
): CpuUsage | undefined {
  if (requests <= 0) return undefined;
  const ms = (ticks: number) => (ticks * 1000) / ticksPerSecond;
  const per = (value: number) => value / requests;
  const processes: ProcessCpu[] = [];
  for (const group of groups) {
    const all = totals.total.get(group.name);
    if (!all) continue;
    const windowMs = ms(totals.window.get(group.name)?.ticks ?? 0);
    const catchUpMs = ms(all.ticks) - windowMs;
    processes.push({
      name: group.name,
      own: group.own,
      processes: all.processes,
      ms: windowMs,
      msPerRequest: per(windowMs),
      ...(totals.catchUpSeconds === undefined ? {} : { catchUpMs, catchUpMsPerRequest: per(catchUpMs) }),
    });
  }
  const sum = (list: ProcessCpu[]) => per(list.reduce((acc, p) => acc + p.ms + (p.catchUpMs ?? 0), 0));
  return {
    seconds: totals.seconds,
    ...(totals.catchUpSeconds === undefined ? {} : { catchUpSeconds: totals.catchUpSeconds }),
    requests,
    ownMsPerRequest: sum(processes.filter((p) => p.own)),
    pipelineMsPerRequest: sum(processes),
    processes,
  };
}

export function describeCpu(usage: CpuUsage): string {
  const own = usage.processes.filter((p) => p.own);
  const parts = usage.processes.map((p) => `${p.name} ${(p.msPerRequest + (p.catchUpMsPerRequest ?? 0)).toFixed(3)}`);
  const pipeline =
    own.length < usage.processes.length ? `, whole pipeline ${usage.pipelineMsPerRequest.toFixed(3)}` : '';
  return `${usage.ownMsPerRequest.toFixed(3)} ms per request for ${own.map((p) => p.name).join(' + ')}${pipeline} (${parts.join(', ')})`;
}

function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(value) && value > 0) return value;
  } catch {
    // fall through to Linux's USER_HZ, which is 100 on every common build
  }
  return 100;
}

export interface ProcessReader {
  readonly ticksPerSecond: number;
  read(groups: readonly CpuGroup[]): Promise<Reading[]>;
}

/** Reads the processes of a set of groups: pids straight from /proc, backends through pg_stat_activity. */
export class CpuSampler implements ProcessReader {
  private constructor(
    private readonly sql: postgres.Sql,
    readonly ticksPerSecond: number,
  ) {}

  /** The sampler's own connection is named so that no group's application prefix matches it. */
  static async open(databaseUrl: string): Promise<CpuSampler> {
    parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    const sql = postgres(databaseUrl, {
      max: 1,
      connect_timeout: 3,
      onnotice: () => {},
      connection: { application_name: 'bench-cpu-sampler' },
    });
    await sql`SELECT 1`;
    return new CpuSampler(sql, clockTicksPerSecond());
  }

  async read(groups: readonly CpuGroup[]): Promise<Reading[]> {
    const pids: { group: string; pid: number }[] = [];
    for (const group of groups) if ('pid' in group.select) pids.push({ group: group.name, pid: group.select.pid });
    const clients = new Set(groups.flatMap((g) => ('client' in g.select ? [g.select.client] : [])));
    if (clients.size > 0) {
      const backends = await this.sql<Backend[]>`
        SELECT pid, datname AS database, application_name AS application, client_port AS "clientPort"
        FROM pg_stat_activity WHERE backend_type = 'client backend'`;
      // Read after the backends, so a connection opened in between still finds its port.
      const ports = tcpPorts();
      const clientPorts = new Map<number, Set<number>>();
      for (const client of clients) {
        const inodes = socketInodes(client);
        clientPorts.set(client, new Set([...ports].filter(([inode]) => inodes.has(inode)).map(([, port]) => port)));
      }
      for (const backend of backends) {
        const group = groupOfBackend(backend, groups, clientPorts);
        if (group) pids.push({ group, pid: backend.pid });
      }
    }
    return pids.flatMap(({ group, pid }) => {
      const stat = readStat(pid);
      return stat ? [{ group, stat }] : [];
    });
  }

  close(): Promise<void> {
    return this.sql.end({ timeout: 1 });
  }
}

/** One measurement's sampling: started before the measured run, lapped at its end, stopped after any catch-up. */
export class CpuRun {
  private readonly ledger = new CpuLedger();
  private readonly timer: NodeJS.Timeout;
  private pending: Promise<void> = Promise.resolve();
  private sampling = false;
  private failure: string | undefined;
  private readonly startedAt = performance.now();
  private window: { totals: Map<string, GroupTicks>; at: number } | undefined;

  private constructor(
    private readonly sampler: ProcessReader,
    readonly groups: readonly CpuGroup[],
    everyMs: number,
  ) {
    this.timer = setInterval(() => {
      // A slow sample is not queued behind: the next tick reads fresher values anyway.
      if (!this.sampling) this.pending = this.sample();
    }, everyMs);
    this.timer.unref();
  }

  /** Takes the opening sample; a failure there is thrown, since without it no delta means anything. */
  static async start(sampler: ProcessReader, groups: readonly CpuGroup[], everyMs = 250): Promise<CpuRun> {
    const opening = await sampler.read(groups);
    const run = new CpuRun(sampler, groups, everyMs);
    run.ledger.record(opening);
    return run;
  }

  private async sample(): Promise<void> {
    this.sampling = true;
    try {
      this.ledger.record(await this.sampler.read(this.groups));
    } catch (error) {
      // A missed sample only loses the readings of processes that end before the next one.
      if (this.failure === undefined) {
        this.failure = (error as Error).message;
        log(`  CPU sampling: ${this.failure}`);
      }
    } finally {
      this.sampling = false;
    }
  }

  private async closingSample(): Promise<void> {
    await this.pending;
    await this.sample();
  }

  /** Marks the end of the measured run; what follows until stop() is catch-up. */
  async lap(): Promise<void> {
    await this.closingSample();
    this.window = { totals: this.ledger.totals(), at: performance.now() };
  }

  /** Stops sampling without a result: the measured run failed. */
  cancel(): void {
    clearInterval(this.timer);
  }

  async stop(requests: number): Promise<CpuUsage | undefined> {
    this.cancel();
    await this.closingSample();
    const total = this.ledger.totals();
    const end = performance.now();
    const totals: CpuTotals = this.window
      ? {
          window: this.window.totals,
          total,
          seconds: (this.window.at - this.startedAt) / 1000,
          catchUpSeconds: (end - this.window.at) / 1000,
        }
      : { window: total, total, seconds: (end - this.startedAt) / 1000 };
    return cpuUsage(this.groups, totals, requests, this.sampler.ticksPerSecond);
  }
}

import postgres from 'postgres';
import type { Component } from '../stack/component.ts';
import { ferretdbComponent } from '../stack/ferretdb.ts';
import { kafkaNodesList } from '../stack/kafka.ts';
import { urls } from '../stack/paths.ts';
import { postgresComponent } from '../stack/postgres.ts';
import { killDaemon } from '../stack/processes.ts';
import { waitFor } from '../stack/progress.ts';
import { commandService, queryService } from '../stack/services.ts';
import type { ProcessMonitor } from './monitor.ts';
import type { FaultName } from './options.ts';

/**
 * The faults, each through the stack's own components (the PID files and markers of `npm run up`,
 * so only this stack's processes are hit): `inject` does the damage, `recover` brings the hit part
 * back and returns once it answers its own health check. Both are bounded.
 */

export interface FaultContext {
  monitor: ProcessMonitor;
  /** How long a killed or stopped part stays down. */
  downMs: number;
  /** Bound on a part's own start. */
  startTimeoutMs: number;
  log: (message: string) => void;
}

export interface Fault {
  /** The part this round hits (rotates for Kafka). */
  target(round: number): string;
  inject(round: number, ctx: FaultContext): Promise<void>;
  recover(round: number, ctx: FaultContext): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWithin(component: Component, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      component.start(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${component.name} did not start within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  if (!(await waitFor(() => component.healthy(), { timeoutMs, intervalMs: 500 }))) {
    throw new Error(`${component.name} is not healthy within ${timeoutMs / 1000} s of its start`);
  }
}

/** SIGKILL to the part's process group (what a crash or an OOM kill does), then a start. */
function killAndRestart(pick: (round: number) => Component): Fault {
  return {
    target: (round) => pick(round).name,
    async inject(round, ctx) {
      const component = pick(round);
      const pid = component.pid();
      if (pid === undefined) throw new Error(`${component.name} is not running: nothing to kill`);
      ctx.monitor.expectDown(component.name);
      killDaemon(component.name);
      ctx.log(`SIGKILL ${component.name} (pid ${pid})`);
      await sleep(ctx.downMs);
    },
    async recover(round, ctx) {
      const component = pick(round);
      ctx.log(`starting ${component.name}`);
      await startWithin(component, ctx.startTimeoutMs);
      ctx.monitor.expectUp(component.name);
    },
  };
}

/** The stack's stop (a clean shutdown: SIGINT fast shutdown for PostgreSQL), then its start. */
function stopAndStart(component: Component): Fault {
  return {
    target: () => component.name,
    async inject(_round, ctx) {
      ctx.monitor.expectDown(component.name);
      ctx.log(`stopping ${component.name} (pid ${component.pid() ?? '-'})`);
      await component.stop();
      await sleep(ctx.downMs);
    },
    async recover(_round, ctx) {
      ctx.log(`starting ${component.name}`);
      await startWithin(component, ctx.startTimeoutMs);
      ctx.monitor.expectUp(component.name);
    },
  };
}

/**
 * pg_terminate_backend on every connection to the catalog database (the command side's) and to
 * FerretDB's (the query side's storage) but the runner's own: what a failover or a restart does to
 * the clients, without the server going away.
 */
const ferretdbDatabase = new URL(urls.ferretdbBackend).pathname.slice(1);

const terminateConnections: Fault = {
  target: () => 'catalog connections',
  async inject(_round, ctx) {
    const sql = postgres(urls.database, {
      max: 1,
      connect_timeout: 5,
      onnotice: () => {},
      connection: { application_name: 'chaos-runner' },
    });
    try {
      const [row] = await sql`
        select count(*) filter (where pg_terminate_backend(pid))::int as terminated, count(*)::int as found
        from pg_stat_activity
        where datname in (current_database(), ${ferretdbDatabase})
          and pid <> pg_backend_pid() and application_name <> 'chaos-runner'`;
      ctx.log(
        `pg_terminate_backend: ${row?.terminated ?? 0} of ${row?.found ?? 0} connection(s) to catalog and ${ferretdbDatabase}`,
      );
    } finally {
      await sql.end({ timeout: 2 });
    }
  },
  async recover() {},
};

const kafkaNode = (round: number): Component => kafkaNodesList[(round - 1) % kafkaNodesList.length] as Component;

export const faults: Record<FaultName, Fault> = {
  'command-kill': killAndRestart(() => commandService),
  'query-kill': killAndRestart(() => queryService),
  'kafka-kill': killAndRestart(kafkaNode),
  'pg-terminate': terminateConnections,
  'pg-restart': stopAndStart(postgresComponent),
  'ferretdb-restart': stopAndStart(ferretdbComponent),
};

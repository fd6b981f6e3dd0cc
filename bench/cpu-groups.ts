import { kafkaNodes } from '../scripts/stack/paths.ts';
import { runningPid } from '../scripts/stack/processes.ts';
import type { CpuGroup } from './cpu.ts';
import type { TargetName } from './report.ts';
import type { Service } from './workloads.ts';

/** Which processes each target's CPU figures sum, named as the report shows them. */

/** The command service's connections: its own pool, its worker threads' pools and its relay, with any suffix. */
export const COMMAND_APPLICATIONS = ['cqrs-catalog-command', 'cqrs-catalog-worker', 'cqrs-catalog-relay'];
export const QUERY_APPLICATIONS = ['cqrs-catalog-query'];
/** The naive baseline names its connections so (bench/baselines/naive-crud.ts). */
export const NAIVE_APPLICATION = 'naive-crud';

export interface WatchedPids {
  command?: number;
  query?: number;
  brokers: { name: string; pid?: number }[];
  ferretdb?: number;
  naive?: number;
  trivial?: number;
}

export interface Databases {
  /** The event store's database, which the naive baseline shares. */
  catalog: string;
  /** FerretDB keeps its documents in a database of its own in the same cluster. */
  ferretdb: string;
}

/**
 * The groups of one measurement. A target's own figure is its service and that service's database:
 * for our writes the command service and its backends, for our reads the query service and FerretDB
 * with its backends. Everything else of the stack runs beside it and counts toward the whole pipeline.
 * A process that is not running is named in `missing` instead.
 */
export function cpuGroups(
  target: TargetName,
  path: Service,
  pids: WatchedPids,
  databases: Databases,
): { groups: CpuGroup[]; missing: string[] } {
  const missing: string[] = [];
  const process = (name: string, own: boolean, pid: number | undefined): CpuGroup[] => {
    if (pid === undefined) {
      missing.push(name);
      return [];
    }
    return [{ name, own, select: { pid } }];
  };
  // A client that is not running has no backends to find; the process itself is named missing.
  const backends = (
    name: string,
    own: boolean,
    database: string,
    client: number | undefined,
    applications?: string[],
  ): CpuGroup[] => {
    if (client === undefined) return [];
    return [{ name, own, select: applications ? { database, applications, client } : { database, client } }];
  };
  if (target === 'naive') {
    const groups = [
      ...process('naive service', true, pids.naive),
      ...backends('naive backends', true, databases.catalog, pids.naive, [NAIVE_APPLICATION]),
    ];
    return { groups, missing };
  }
  if (target === 'trivial') return { groups: process('trivial service', true, pids.trivial), missing };
  const writes = path === 'command';
  const groups = [
    ...process('command service', writes, pids.command),
    ...backends('command backends', writes, databases.catalog, pids.command, COMMAND_APPLICATIONS),
    ...pids.brokers.flatMap((broker) => process(broker.name, false, broker.pid)),
    ...process('query service', !writes, pids.query),
    ...backends('query backends', !writes, databases.catalog, pids.query, QUERY_APPLICATIONS),
    ...process('FerretDB', !writes, pids.ferretdb),
    ...backends('FerretDB backends', !writes, databases.ferretdb, pids.ferretdb),
  ];
  return { groups, missing };
}

/** The stack's daemons, by the PID files `npm run up` keeps (a stale file reads as not running). */
export function stackPids(): Omit<WatchedPids, 'naive' | 'trivial'> {
  return {
    command: runningPid('command-service'),
    query: runningPid('query-service'),
    brokers: Array.from({ length: kafkaNodes }, (_, i) => {
      const name = `kafka-${i + 1}`;
      return { name, pid: runningPid(name) };
    }),
    ferretdb: runningPid('ferretdb'),
  };
}

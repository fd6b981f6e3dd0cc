import { readFileSync } from 'node:fs';

/**
 * How loaded the whole machine was during a measurement, every process on it together: the share of
 * the cores' time spent busy (/proc/stat) and the share of wall time during which some runnable task
 * waited for a core (Linux's pressure stall information, /proc/pressure/cpu). A lag measured while
 * tasks queue for a core is that queue's as much as the pipeline's.
 */

export interface CpuTimes {
  /** Clock ticks, all cores together: user, nice, system, irq, softirq and steal. */
  busy: number;
  /** The same plus idle and iowait. */
  total: number;
}

export interface MachineSample {
  atMs: number;
  cpu: CpuTimes;
  /** Cumulative microseconds with some task waiting for a core; undefined without PSI. */
  pressureUs: number | undefined;
}

export interface MachineLoad {
  seconds: number;
  /** Busy share of all cores' time, 0 to 1. */
  busy: number;
  /** Share of wall time with some task waiting for a core, 0 to 1; undefined without PSI. */
  pressure?: number;
}

/** The aggregate `cpu` line of /proc/stat. */
export function parseCpuTimes(stat: string): CpuTimes {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce((sum: number, v) => sum + (v ?? 0), 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

/** The `some` line's cumulative `total` (microseconds) of /proc/pressure/cpu. */
export function parseCpuPressure(text: string): number | undefined {
  const total = /^some .*\btotal=(\d+)/m.exec(text)?.[1];
  return total === undefined ? undefined : Number(total);
}

export function machineLoadBetween(before: MachineSample, after: MachineSample): MachineLoad | undefined {
  const seconds = (after.atMs - before.atMs) / 1000;
  const ticks = after.cpu.total - before.cpu.total;
  if (seconds <= 0 || ticks <= 0) return undefined;
  const load: MachineLoad = { seconds, busy: (after.cpu.busy - before.cpu.busy) / ticks };
  if (before.pressureUs !== undefined && after.pressureUs !== undefined) {
    load.pressure = Math.min(1, (after.pressureUs - before.pressureUs) / (seconds * 1e6));
  }
  return load;
}

export function describeMachineLoad(load: MachineLoad): string {
  const percent = (share: number) => `${Math.round(share * 100)} %`;
  const pressure =
    load.pressure === undefined
      ? 'no CPU pressure figures (/proc/pressure/cpu missing)'
      : `some task waited for a core ${percent(load.pressure)} of the time (/proc/pressure/cpu)`;
  return `the machine meanwhile, every process on it: cores ${percent(load.busy)} busy (/proc/stat); ${pressure}`;
}

export function readMachine(): MachineSample {
  let pressureUs: number | undefined;
  try {
    pressureUs = parseCpuPressure(readFileSync('/proc/pressure/cpu', 'utf8'));
  } catch {
    // a kernel without PSI: busy time alone is still measured
  }
  return { atMs: performance.now(), cpu: parseCpuTimes(readFileSync('/proc/stat', 'utf8')), pressureUs };
}

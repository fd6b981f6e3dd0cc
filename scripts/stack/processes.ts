import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { logFile, pidFile } from './paths.ts';
import { StackError, say } from './progress.ts';

/**
 * Daemons of the stack: started detached (their own process group, so Ctrl-C on `up` reaches only
 * `up`, which then stops them in order), logged to one file each, and stopped by the PID recorded
 * at start. A PID is trusted only while the process's command line still contains the marker it was
 * started with, so a recycled PID never gets a signal meant for the stack.
 */

export interface RunAs {
  uid: number;
  gid: number;
}

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  /** A string unique to this daemon's command line (a data directory, a config file path). */
  marker: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  runAs?: RunAs;
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** The PID of a running daemon of this stack, or undefined. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const [pidText, marker] = readFileSync(file, 'utf8').split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const line = cmdline(pid);
  return line?.includes(marker ?? '\0never') ? pid : undefined;
}

export function startDaemon(spec: DaemonSpec): number {
  const existing = runningPid(spec.name);
  if (existing) return existing;
  const log = logFile(spec.name);
  mkdirSync(dirname(log), { recursive: true });
  mkdirSync(dirname(pidFile(spec.name)), { recursive: true });
  const fd = openSync(log, 'a');
  const options: SpawnOptions = {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...spec.env },
    cwd: spec.cwd,
  };
  if (spec.runAs) Object.assign(options, spec.runAs);
  const child = spawn(spec.command, spec.args, options);
  closeSync(fd);
  if (child.pid === undefined) throw new StackError(spec.name, `could not start ${spec.command}`, log);
  child.unref();
  writeFileSync(pidFile(spec.name), `${child.pid}\n${spec.marker}\n`);
  return child.pid;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return cmdline(pid) !== undefined && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

/**
 * Asks the daemon to stop (SIGTERM to its process group unless told otherwise), then SIGKILL if
 * it is still there after `graceMs`.
 */
export async function stopDaemon(
  name: string,
  { graceMs = 30_000, signal: first = 'SIGTERM' as NodeJS.Signals, leaderOnly = false } = {},
): Promise<boolean> {
  const pid = runningPid(name);
  rmSync(pidFile(name), { force: true });
  if (!pid) return false;
  say(name, `stopping (pid ${pid})`);
  const signal = (sig: NodeJS.Signals, group = true) => {
    try {
      process.kill(group ? -pid : pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal(first, !leaderOnly);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    say(name, `did not stop within ${graceMs / 1000}s, sending SIGKILL`);
    signal('SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Kills a daemon without letting it clean up: what a crash looks like (used by fault tests). */
export function killDaemon(name: string): void {
  const pid = runningPid(name);
  if (pid) process.kill(-pid, 'SIGKILL');
}

/** Resident memory of a daemon and its children, in MiB. */
export function residentMiB(pid: number): number {
  const out = spawnSync('ps', ['-o', 'rss=', '--ppid', String(pid), '-p', String(pid)], { encoding: 'utf8' });
  const kib = out.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isFinite(n))
    .reduce((a, b) => a + b, 0);
  return Math.round(kib / 1024);
}

/** Runs a command to completion, streaming its output (installs and builds show their own progress). */
export function run(
  component: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; runAs?: RunAs; quiet?: boolean } = {},
): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    encoding: 'utf8',
    ...(options.runAs ?? {}),
  });
  if (result.status !== 0) {
    const detail = options.quiet ? `\n${result.stdout ?? ''}${result.stderr ?? ''}` : '';
    throw new StackError(component, `${command} ${args.join(' ')} failed (exit ${result.status})${detail}`);
  }
  return result.stdout ?? '';
}

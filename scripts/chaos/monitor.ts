import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Component } from '../stack/component.ts';
import { logFile } from '../stack/paths.ts';
import type { Crash } from './report.ts';

/**
 * Watches the PID of every part of the stack (by its pid file and command-line marker, as the stack
 * itself does) and records a crash when one disappears that the fault did not announce as its
 * target. A fault calls `expectDown(name)` before it kills or stops a part and `expectUp(name)` once
 * it started it again.
 */
export class ProcessMonitor {
  private readonly expected = new Map<string, number | undefined>();
  private readonly expectedDown = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private crashes: Crash[] = [];
  private faultAt = Date.now();

  constructor(
    private readonly components: readonly Component[],
    private readonly onCrash: (crash: Crash) => void = () => {},
  ) {
    for (const c of components) this.expected.set(c.name, c.pid());
  }

  start(intervalMs = 200): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts a new round: the time its crashes are measured from. */
  beginRound(faultAt: number): void {
    this.poll();
    this.faultAt = faultAt;
  }

  markFault(at: number): void {
    this.faultAt = at;
  }

  /** The crashes seen since the last call (a crash between two rounds goes to the next one). */
  roundCrashes(): Crash[] {
    this.poll();
    const taken = this.crashes;
    this.crashes = [];
    return taken;
  }

  expectDown(name: string): void {
    this.poll();
    this.expectedDown.add(name);
  }

  expectUp(name: string): void {
    this.expectedDown.delete(name);
    this.expected.set(name, this.components.find((c) => c.name === name)?.pid());
  }

  /** Parts that are not running now (crashed or not yet restarted). */
  down(): Component[] {
    return this.components.filter((c) => c.pid() === undefined);
  }

  private poll(): void {
    for (const c of this.components) {
      const was = this.expected.get(c.name);
      const now = c.pid();
      if (was === undefined || now === was) continue;
      this.expected.set(c.name, now);
      if (this.expectedDown.has(c.name)) continue;
      const crash: Crash = { component: c.name, pid: was, atMs: Date.now() - this.faultAt, logTail: logTail(c.name) };
      this.crashes.push(crash);
      this.onCrash(crash);
    }
  }
}

/** The last lines of a component's log, for the cause of a crash. */
export function logTail(name: string, lines = 20): string[] {
  const file = logFile(name);
  if (!existsSync(file)) return [];
  const fd = openSync(file, 'r');
  let text: string;
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    text = buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .slice(-lines)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l));
}

import { basename } from 'node:path';

/**
 * Reads the .cpuprofile files node --cpu-prof writes (one per thread) into a short self-time summary,
 * enough to see where the command service's time goes without opening DevTools.
 */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the sample before (the first: since startTime). */
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Of the profile's whole span, idle included. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** Busy frames only; idle is reported apart so the list shows what the thread computes. */
  top: SelfTime[];
}

/**
 * Names a frame by function and source location, with paths shown relative to `root`. TypeScript is
 * compiled by tsx as it loads, and V8's line numbers are those of the generated code, which point
 * nowhere in the source: those frames get the file alone.
 */
export function frameName(frame: CallFrame, root: string): string {
  if (!frame.url) return frame.functionName || '(anonymous)';
  const path = frame.url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('node_modules/');
  const short =
    inModules >= 0 ? path.slice(inModules) : path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
  const line = /\.[cm]?tsx?$/.test(path) ? '' : `:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'} ${short}${line}`;
}

/**
 * Self time per frame name, DevTools' way: a sample lasts until the next one, the last one until
 * endTime. The same function reached through different stacks is one entry.
 */
export function summarizeProfile(profile: CpuProfile, root: string, limit = 10): ProfileSummary {
  const names = new Map(profile.nodes.map((node) => [node.id, frameName(node.callFrame, root)]));
  const self = new Map<string, number>();
  let at = profile.startTime;
  const stamps = profile.timeDeltas.map((delta) => {
    at += delta;
    return at;
  });
  profile.samples.forEach((id, i) => {
    const until = stamps[i + 1] ?? profile.endTime;
    const name = names.get(id) ?? '(unknown)';
    self.set(name, (self.get(name) ?? 0) + Math.max(0, until - (stamps[i] ?? until)) / 1000);
  });
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const idleMs = self.get('(idle)') ?? 0;
  const top = [...self.entries()]
    .filter(([name]) => name !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => ({ name, ms, share: totalMs > 0 ? ms / totalMs : 0 }));
  return { totalMs, idleMs, top };
}

/**
 * node names its files CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile; thread 0 is the
 * main thread. One worker is not the service's: it runs the module hooks `--import tsx` registers.
 */
export function threadOf(file: string, profile: CpuProfile): string {
  const parts = basename(file).split('.');
  const thread = parts.length >= 7 ? parts[parts.length - 3] : undefined;
  if (thread === undefined || !/^\d+$/.test(thread)) return 'unknown thread';
  if (thread === '0') return 'main thread';
  const hooks = profile.nodes.some((node) => node.callFrame.url === 'node:internal/modules/esm/worker');
  return hooks ? `worker thread ${thread}, module loader hooks (tsx)` : `worker thread ${thread}`;
}

export function describeProfile(summary: ProfileSummary): string[] {
  const pct = (ms: number) => `${((100 * ms) / Math.max(1, summary.totalMs)).toFixed(1)} %`;
  return [
    `${(summary.totalMs / 1000).toFixed(1)} s profiled, ${pct(summary.idleMs)} idle; top self time:`,
    ...summary.top.map((entry) => `${entry.ms.toFixed(0).padStart(7)} ms ${pct(entry.ms).padStart(6)}  ${entry.name}`),
  ];
}

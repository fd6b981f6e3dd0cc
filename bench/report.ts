import type { Check } from './checks.ts';
import { type ConsoleStreamsResult, describeConsoleStreams } from './console-streams.ts';
import { type ListScalingResult, renderListScaling } from './list-report.ts';
import type { MachineLoad } from './machine-load.ts';
import type { Mode, Thresholds } from './scenarios.ts';
import type { LatencySummary } from './stats.ts';

/**
 * The benchmark report: its data model and its two renderings, a Markdown table and a hand-written
 * SVG chart. Pure functions of the report, so the same input always draws the same file.
 */

export type TargetName = 'ours' | 'naive' | 'trivial';
export const TARGETS: readonly TargetName[] = ['ours', 'naive', 'trivial'];

export const TARGET_LABELS: Record<TargetName, string> = {
  ours: 'cqrs-catalog',
  naive: 'naive CRUD (SELECT ... FOR UPDATE)',
  trivial: 'trivial Hono endpoint',
};

const COLORS: Record<TargetName, string> = { ours: '#2563eb', naive: '#d97706', trivial: '#9ca3af' };

/** CPU time of one process, or of one database's backends summed, during a measurement. */
export interface ProcessCpu {
  name: string;
  /** Part of the target's own figure: its service and that service's database backends. */
  own: boolean;
  /** How many processes contributed (pooled backends come and go). */
  processes: number;
  /** During the measured run. */
  ms: number;
  msPerRequest: number;
  /** After the run, while the projections caught up (cqrs-catalog only). */
  catchUpMs?: number;
  catchUpMsPerRequest?: number;
}

export interface CpuUsage {
  /** Wall time of the measured run and of the catch-up after it. */
  seconds: number;
  catchUpSeconds?: number;
  /** The answers the figures are divided by. */
  requests: number;
  /** The target's service and its database backends, run plus catch-up. */
  ownMsPerRequest: number;
  /** Every process watched, run plus catch-up. */
  pipelineMsPerRequest: number;
  processes: ProcessCpu[];
}

export interface Measurement {
  target: TargetName;
  requests: number;
  seconds: number;
  throughput: number;
  latencyMs: LatencySummary | null;
  errors: number;
  outcomes: Record<string, number>;
  cpu?: CpuUsage;
  /** The whole machine's load during the run (paced runs, where a lag may be a wait for a core). */
  machine?: MachineLoad;
}

export interface Row {
  /** `scenario/part`, unique in a report. */
  id: string;
  scenario: string;
  part: string;
  path: 'command' | 'query' | 'end-to-end';
  title: string;
  /** What the latency figures time: a request, or the lag from a write's 2xx to the view. */
  latencyKind: 'request' | 'lag';
  thresholds: Thresholds;
  measurements: Measurement[];
  notes: string[];
}

export interface RebuildResult {
  status: 'measured' | 'not available' | 'failed' | 'timed out' | 'skipped';
  detail: string;
  seconds?: number;
  events?: number;
  eventsPerSecond?: number;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  kafka: string;
  mongo: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: Mode;
  connections: number;
  machine: Machine;
  rows: Row[];
  rebuild: RebuildResult;
  /** Absent in reports from before the step existed. */
  consoleStreams?: ConsoleStreamsResult;
  checks: Check[];
  notes: string[];
  /** The list-scaling step's figures, when it ran. */
  lists?: ListScalingResult;
}

export const measurementOf = (row: Row, target: TargetName): Measurement | undefined =>
  row.measurements.find((m) => m.target === target);

export const errorRate = (m: Measurement): number =>
  m.errors / Math.max(1, m.requests + (m.outcomes['transport error'] ?? 0));

/** Whether our figure meets the scenario's thresholds (the same ones the k6 script enforces). */
export function verdict(row: Row): { passed: boolean; text: string } | undefined {
  const ours = measurementOf(row, 'ours');
  if (!ours?.latencyMs) return undefined;
  const { p99Ms, errorRate: maxErrorRate } = row.thresholds;
  const passed = ours.latencyMs.p99 < p99Ms && errorRate(ours) <= maxErrorRate;
  const what = row.latencyKind === 'lag' ? 'lag p99' : 'p99';
  return { passed, text: `${what} < ${p99Ms} ms, errors <= ${maxErrorRate * 100} %: ${passed ? 'pass' : 'FAIL'}` };
}

const fmtInt = (value: number) => Math.round(value).toLocaleString('en-US');
const fmtMs = (value: number) =>
  value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toString();
const fmtRatio = (ours: number, other: number) =>
  other > 0 ? (ours / other >= 1 ? `${(ours / other).toFixed(1)}x` : `${Math.round((ours / other) * 100)} %`) : 'n/a';

const cell = (m: Measurement | undefined, pick: (m: Measurement) => string) => (m ? pick(m) : '-');
const p99Of = (m: Measurement) => (m.latencyMs ? fmtMs(m.latencyMs.p99) : '-');

export function describeMachine(machine: Machine): string {
  return (
    `${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}, ` +
    `PostgreSQL ${machine.postgres}, Kafka ${machine.kafka}, MongoDB API ${machine.mongo}`
  );
}

export function describeRebuild(rebuild: RebuildResult): string {
  if (rebuild.status === 'measured' && rebuild.eventsPerSecond !== undefined) {
    return `${fmtInt(rebuild.eventsPerSecond)} events/s (${fmtInt(rebuild.events ?? 0)} events in ${rebuild.seconds?.toFixed(1)} s). ${rebuild.detail}`;
  }
  return `${rebuild.status}: ${rebuild.detail}`;
}

export function renderMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  lines.push(`# Benchmark ${report.startedAt} (${report.mode})`, '');
  lines.push(`Machine: ${describeMachine(report.machine)}.`, '');
  lines.push(
    `${report.connections} connections per closed-loop run. Throughput in requests/s (read-after-write: writes/s at the paced rate); ` +
      'latencies in ms; the ratio columns compare cqrs-catalog with each baseline.',
    '',
  );
  lines.push(
    '| scenario | path | ours req/s | naive req/s | trivial req/s | ours p99 | naive p99 | trivial p99 | ours / naive | ours / trivial | thresholds |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  for (const row of report.rows) {
    const [ours, naive, trivial] = TARGETS.map((t) => measurementOf(row, t));
    const ratio = (other: Measurement | undefined) =>
      ours && other ? fmtRatio(ours.throughput, other.throughput) : '-';
    lines.push(
      `| ${row.title} | ${row.path} | ${cell(ours, (m) => fmtInt(m.throughput))} | ${cell(naive, (m) => fmtInt(m.throughput))} | ` +
        `${cell(trivial, (m) => fmtInt(m.throughput))} | ${cell(ours, p99Of)} | ${cell(naive, p99Of)} | ${cell(trivial, p99Of)} | ` +
        `${ratio(naive)} | ${ratio(trivial)} | ${verdict(row)?.text ?? '-'} |`,
    );
  }
  lines.push('', `Rebuild catch-up: ${describeRebuild(report.rebuild)}`, '');
  if (report.consoleStreams) lines.push(`Console streams: ${describeConsoleStreams(report.consoleStreams)}`, '');

  lines.push('## Details', '');
  lines.push(
    '| scenario | target | requests | s | req/s | p50 | p90 | p99 | max | errors | answers |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  for (const row of report.rows) {
    for (const m of row.measurements) {
      const l = m.latencyMs;
      const answers = Object.entries(m.outcomes)
        .map(([key, n]) => `${key}: ${fmtInt(n)}`)
        .join(', ');
      lines.push(
        `| ${row.title} | ${TARGET_LABELS[m.target]} | ${fmtInt(m.requests)} | ${m.seconds.toFixed(1)} | ${fmtInt(m.throughput)} | ` +
          `${l ? fmtMs(l.p50) : '-'} | ${l ? fmtMs(l.p90) : '-'} | ${l ? fmtMs(l.p99) : '-'} | ${l ? fmtMs(l.max) : '-'} | ` +
          `${fmtInt(m.errors)} | ${answers || '-'} |`,
      );
    }
  }
  const rowNotes = report.rows.flatMap((row) => row.notes.map((note) => `- ${row.title}: ${note}`));
  if (rowNotes.length > 0) lines.push('', ...rowNotes);
  lines.push(...cpuMarkdown(report));
  if (report.lists) lines.push(...renderListScaling(report.lists));

  lines.push('', '## Checks', '');
  if (report.checks.length === 0) lines.push('- none ran');
  for (const check of report.checks) lines.push(`- ${check.passed ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`);
  if (report.notes.length > 0) lines.push('', '## Notes', '', ...report.notes.map((note) => `- ${note}`));
  lines.push('', `Started ${report.startedAt}, finished ${report.finishedAt}.`, '');
  return lines.join('\n');
}

/** The ratio the write-path target bounds: ours uses at most half the CPU per write of naive. */
export const CPU_TARGET_RATIO = 0.5;

const fmtCpu = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

const cpuOf = (row: Row, target: TargetName) => measurementOf(row, target)?.cpu;

/** Ours over naive, service plus backends each, or undefined when either is missing. */
export function cpuRatio(row: Row): number | undefined {
  const ours = cpuOf(row, 'ours');
  const naive = cpuOf(row, 'naive');
  return ours && naive && naive.ownMsPerRequest > 0 ? ours.ownMsPerRequest / naive.ownMsPerRequest : undefined;
}

/** Process names, ours first, in the order they appear: every measurement's breakdown shares the columns. */
function cpuColumns(report: BenchReport): string[] {
  const names = new Set<string>();
  for (const target of TARGETS) {
    for (const row of report.rows) for (const p of measurementOf(row, target)?.cpu?.processes ?? []) names.add(p.name);
  }
  return [...names];
}

function cpuMarkdown(report: BenchReport): string[] {
  const rows = report.rows.filter((row) => row.measurements.some((m) => m.cpu));
  if (rows.length === 0) return [];
  const lines = ['', '## CPU per request', ''];
  lines.push(
    'CPU time per answer in ms: utime + stime of every thread, sampled from /proc during each run, to one ' +
      'clock tick (usually 10 ms) per process, which the short quick runs feel. ' +
      "Service + backends: the target's service process and its PostgreSQL backends (those pg_stat_activity " +
      "shows connected from the process's own sockets); for cqrs-catalog's reads, " +
      "the query service, FerretDB and FerretDB's backends. Whole pipeline: every process of the stack (command " +
      "service and its backends, each Kafka broker, the query service, FerretDB and its backends). cqrs-catalog's " +
      'figures include the catch-up after each run, until the projections had caught up. The processes of the ' +
      'stack are shared: whatever else they did meanwhile (background work, other clients) counts too. ' +
      `Write-path target: ours / naive at most ${CPU_TARGET_RATIO}.`,
    '',
    '| scenario | path | ours: service + backends | naive: service + backends | ours / naive | CPU target | trivial: service | ours: whole pipeline |',
    '|---|---|--:|--:|--:|---|--:|--:|',
  );
  for (const row of rows) {
    const [ours, naive, trivial] = TARGETS.map((t) => cpuOf(row, t));
    const ratio = cpuRatio(row);
    const target =
      ratio === undefined || row.path !== 'command'
        ? '-'
        : `<= ${CPU_TARGET_RATIO}: ${ratio <= CPU_TARGET_RATIO ? 'pass' : 'FAIL'}`;
    lines.push(
      `| ${row.title} | ${row.path} | ${ours ? fmtCpu(ours.ownMsPerRequest) : '-'} | ${naive ? fmtCpu(naive.ownMsPerRequest) : '-'} | ` +
        `${ratio === undefined ? '-' : ratio.toFixed(2)} | ${target} | ${trivial ? fmtCpu(trivial.ownMsPerRequest) : '-'} | ` +
        `${ours ? fmtCpu(ours.pipelineMsPerRequest) : '-'} |`,
    );
  }
  const columns = cpuColumns(report);
  lines.push(
    '',
    '### CPU per request by process',
    '',
    'ms per answer during the run; "+" the catch-up after it. * marks what counts as the service + backends.',
    '',
    `| scenario | target | s | ${columns.join(' | ')} |`,
    `|---|---|--:|${columns.map(() => '--:').join('|')}|`,
  );
  for (const row of rows) {
    for (const m of row.measurements) {
      if (!m.cpu) continue;
      const byName = new Map(m.cpu.processes.map((p) => [p.name, p]));
      const cells = columns.map((name) => {
        const p = byName.get(name);
        if (!p) return '-';
        const catchUp = (p.catchUpMsPerRequest ?? 0) >= 0.0005 ? ` +${fmtCpu(p.catchUpMsPerRequest ?? 0)}` : '';
        return `${fmtCpu(p.msPerRequest)}${catchUp}${p.own ? '*' : ''}`;
      });
      const seconds = `${m.cpu.seconds.toFixed(1)}${m.cpu.catchUpSeconds === undefined ? '' : ` +${m.cpu.catchUpSeconds.toFixed(1)}`}`;
      lines.push(`| ${row.title} | ${TARGET_LABELS[m.target]} | ${seconds} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}

const escapeXml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );

const WIDTH = 1000;
const LABEL_WIDTH = 220;
const PANEL_GAP = 30;
const PANEL_WIDTH = (WIDTH - LABEL_WIDTH - PANEL_GAP - 20) / 2;
/** Room kept right of the longest bar for its value. */
const VALUE_ROOM = 70;
const BAR = 13;
const BAR_GAP = 3;
const ROW_GAP = 14;

/** Breaks a line at spaces so that no piece is longer than `width` characters (SVG text does not wrap). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const PIPELINE_COLOR = '#bfdbfe';
/** Room kept right of the CPU bars for the ratio. */
const RATIO_ROOM = 150;

/**
 * Below the two panels, for the write path: CPU per request of each target's service and backends,
 * with cqrs-catalog's whole pipeline as a pale bar beside it and the ratio to naive at the right.
 * Reads have no naive figure to compare with, and one slow query would set the scale; they stay in
 * the table. Returns the next free y.
 */
function cpuBars(report: BenchReport, parts: string[], top: number): number {
  const rows = report.rows.filter((row) => row.path === 'command' && row.measurements.some((m) => m.cpu));
  if (rows.length === 0) return top;
  const bars = (row: Row) =>
    TARGETS.flatMap((target) => {
      const cpu = cpuOf(row, target);
      if (!cpu) return [];
      const own = { key: target, color: COLORS[target], value: cpu.ownMsPerRequest, what: 'service + backends' };
      const pipeline = {
        key: 'ours-pipeline',
        color: PIPELINE_COLOR,
        value: cpu.pipelineMsPerRequest,
        what: 'whole pipeline',
      };
      return target === 'ours' && cpu.processes.some((p) => !p.own) ? [own, pipeline] : [own];
    });
  const max = Math.max(0.001, ...rows.flatMap((row) => bars(row).map((b) => b.value)));
  const width = WIDTH - LABEL_WIDTH - 20 - RATIO_ROOM - VALUE_ROOM;
  let y = top + 16;
  parts.push(
    `<text x="${LABEL_WIDTH}" y="${y}" class="axis">CPU per write, ms: service + its PostgreSQL backends; pale: cqrs-catalog's whole pipeline</text>`,
  );
  y += 10;
  for (const row of rows) {
    const start = y;
    for (const bar of bars(row)) {
      const w = Math.max(1, (width * bar.value) / max);
      const tip = escapeXml(
        `${row.title}, ${TARGET_LABELS[bar.key === 'ours-pipeline' ? 'ours' : (bar.key as TargetName)]}, ${bar.what}`,
      );
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${bar.color}" data-cpu="${bar.key}"><title>${tip}</title></rect>`,
        `<text x="${(LABEL_WIDTH + w + 4).toFixed(1)}" y="${y + BAR - 2}" class="value">${fmtCpu(bar.value)}</text>`,
      );
      y += BAR + BAR_GAP;
    }
    const middle = (start + y - BAR_GAP) / 2 + 4;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${middle.toFixed(1)}" class="label" text-anchor="end">${escapeXml(row.title)}</text>`,
    );
    const ratio = cpuRatio(row);
    if (ratio !== undefined) {
      parts.push(
        `<text x="${WIDTH - 20}" y="${middle.toFixed(1)}" class="label" text-anchor="end">ours / naive ${ratio.toFixed(2)}</text>`,
      );
    }
    y += ROW_GAP;
    parts.push(`<line x1="10" x2="${WIDTH - 10}" y1="${y - ROW_GAP / 2}" y2="${y - ROW_GAP / 2}" class="rule"/>`);
  }
  return y;
}

/**
 * A two-panel bar chart: throughput (longer is better) and p99 (shorter is better), ours beside each
 * baseline; CPU per request below them.
 */
export function renderSvg(report: BenchReport): string {
  const maxThroughput = Math.max(1, ...report.rows.flatMap((r) => r.measurements.map((m) => m.throughput)));
  const maxP99 = Math.max(1, ...report.rows.flatMap((r) => r.measurements.map((m) => m.latencyMs?.p99 ?? 0)));
  const scale = (value: number, max: number) => Math.max(1, ((PANEL_WIDTH - VALUE_ROOM) * value) / max);
  const throughputX = LABEL_WIDTH;
  const latencyX = LABEL_WIDTH + PANEL_WIDTH + PANEL_GAP;

  const header = wrapText(`${describeMachine(report.machine)}; ${report.connections} connections`, 150);
  const legendY = 54 + header.length * 16;
  const axisY = legendY + 30;
  const parts: string[] = [];
  let y = axisY + 10;
  for (const row of report.rows) {
    const top = y;
    const measured = TARGETS.map((t) => measurementOf(row, t)).filter((m): m is Measurement => m !== undefined);
    for (const m of measured) {
      const color = COLORS[m.target];
      const tip = escapeXml(`${row.title}, ${TARGET_LABELS[m.target]}`);
      const w = scale(m.throughput, maxThroughput);
      parts.push(
        `<rect x="${throughputX}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${color}" data-target="${m.target}"><title>${tip}</title></rect>`,
        `<text x="${(throughputX + w + 4).toFixed(1)}" y="${y + BAR - 2}" class="value">${escapeXml(fmtInt(m.throughput))}</text>`,
      );
      if (m.latencyMs) {
        const lw = scale(m.latencyMs.p99, maxP99);
        parts.push(
          `<rect x="${latencyX}" y="${y}" width="${lw.toFixed(1)}" height="${BAR}" fill="${color}" data-target="${m.target}"><title>${tip}</title></rect>`,
          `<text x="${(latencyX + lw + 4).toFixed(1)}" y="${y + BAR - 2}" class="value">${escapeXml(fmtMs(m.latencyMs.p99))}</text>`,
        );
      }
      y += BAR + BAR_GAP;
    }
    if (measured.length === 0) {
      parts.push(`<text x="${throughputX}" y="${y + BAR - 2}" class="value">not measured</text>`);
      y += BAR + BAR_GAP;
    }
    const middle = (top + y - BAR_GAP) / 2 + 4;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${middle.toFixed(1)}" class="label" text-anchor="end">${escapeXml(row.title)}</text>`,
    );
    y += ROW_GAP;
    parts.push(`<line x1="10" x2="${WIDTH - 10}" y1="${y - ROW_GAP / 2}" y2="${y - ROW_GAP / 2}" class="rule"/>`);
  }

  y = cpuBars(report, parts, y);

  const legend = TARGETS.map((t, i) => {
    const x = 20 + i * 300;
    return (
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[t]}"/>` +
      `<text x="${x + 18}" y="${legendY}" class="label">${escapeXml(TARGET_LABELS[t])}</text>`
    );
  }).join('');
  const footY = y + 10;
  const height = footY + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif">`,
    '<style>.title{font-size:18px;font-weight:600}.label{font-size:12px;fill:#111827}.value{font-size:11px;fill:#374151}.axis{font-size:12px;font-weight:600;fill:#111827}.foot{font-size:11px;fill:#4b5563}.rule{stroke:#e5e7eb}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="28" class="title">cqrs-catalog benchmark, ${escapeXml(report.startedAt)} (${report.mode})</text>`,
    ...header.map((line, i) => `<text x="20" y="${48 + i * 16}" class="foot">${escapeXml(line)}</text>`),
    legend,
    `<text x="${throughputX}" y="${axisY}" class="axis">throughput, req/s (longer is better)</text>`,
    `<text x="${latencyX}" y="${axisY}" class="axis">p99 latency, ms (shorter is better; lag: 2xx to view)</text>`,
    ...parts,
    `<text x="20" y="${footY + 4}" class="foot">${escapeXml(`Rebuild catch-up: ${describeRebuild(report.rebuild)}`)}</text>`,
    `<text x="20" y="${footY + 22}" class="foot">${escapeXml(`Checks: ${report.checks.filter((c) => c.passed).length} of ${report.checks.length} passed`)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** `2025-06-01T14-03-22Z`: sortable, and safe in a file name. */
export const resultStem = (date: Date): string => `${date.toISOString().slice(0, 19).replace(/:/g, '-')}Z`;

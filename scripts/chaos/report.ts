import { FAULT_TITLES, type FaultName } from './options.ts';

/**
 * What one chaos round found, the per-fault summary rows of the table, the run's verdict, and the
 * Markdown and console renderings. Pure: the runner fills RoundResults, this module judges them.
 */

export interface Crash {
  component: string;
  pid: number;
  /** Milliseconds since the fault was injected (negative: before it). */
  atMs: number;
  /** The end of the component's log, for the cause. */
  logTail: string[];
}

export interface AnswerTally {
  /** Every status answered during the round (load and retries), plus "no answer". */
  statuses: Record<string, number>;
  /** 5xx answers, all kinds. */
  fivexx: number;
  status500: number;
  /** 503 with Retry-After: what a dependency fault should answer. */
  status503RetryAfter: number;
  /** Any other 5xx (a 503 without Retry-After, 502, 504, ...): a contract violation. */
  otherFivexx: number;
}

export interface RoundResult {
  fault: FaultName;
  round: number;
  /** What was hit (e.g. kafka-2). */
  target: string;
  startedAt: string;
  writes: {
    sent: number;
    acknowledged: number;
    /** Of the acknowledged, those acknowledged only when resent with the same Idempotency-Key. */
    acknowledgedOnRetry: number;
    /** Writes without a definitive answer at first (no answer, 503, key in flight): resent. */
    resent: number;
    /** Still without a definitive answer when the retry bound ran out. */
    unresolved: number;
    /** Final 4xx answers (none are expected from this load). */
    rejected: Record<string, number>;
  };
  answers: AnswerTally;
  /** The readers' answers from the query service. */
  reads: AnswerTally & { sent: number };
  lost: number;
  lostSamples: string[];
  duplicateKeys: number;
  topic: { records: number; duplicates: number; missing: number; problems: string[] };
  verify: { differences: number | null; exitCode: number | null; summary: string };
  crashes: Crash[];
  /** Fault to both services ready (and the hit part healthy again); null when not within the bound. */
  recoveryMs: number | null;
  /** Steps that failed to run (a restart that threw, a check that could not run). */
  errors: string[];
}

export interface SummaryRow {
  fault: FaultName;
  title: string;
  rounds: number;
  acknowledged: number;
  lost: number;
  fivexx: number;
  status500: number;
  reads: number;
  readFivexx: number;
  readStatus500: number;
  crashes: number;
  topicProblems: number;
  verifyDifferences: number;
  recoveryP50Ms: number | null;
  recoveryMaxMs: number | null;
  /** Rounds that did not recover within the bound. */
  unrecovered: number;
}

/** Nearest-rank percentile of the values (null when there are none). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/** A verify that could not run counts as one difference: nothing was shown to be consistent. */
const verifyDifferences = (r: RoundResult): number => r.verify.differences ?? 1;
const topicProblems = (r: RoundResult): number => r.topic.problems.length + r.topic.missing;

export function summarise(rounds: readonly RoundResult[], order: readonly FaultName[]): SummaryRow[] {
  return order
    .map((fault) => {
      const mine = rounds.filter((r) => r.fault === fault);
      const recovered = mine.map((r) => r.recoveryMs).filter((ms): ms is number => ms !== null);
      const sum = (f: (r: RoundResult) => number) => mine.reduce((n, r) => n + f(r), 0);
      return {
        fault,
        title: FAULT_TITLES[fault],
        rounds: mine.length,
        acknowledged: sum((r) => r.writes.acknowledged),
        lost: sum((r) => r.lost),
        fivexx: sum((r) => r.answers.fivexx),
        status500: sum((r) => r.answers.status500),
        reads: sum((r) => r.reads.sent),
        readFivexx: sum((r) => r.reads.fivexx),
        readStatus500: sum((r) => r.reads.status500),
        crashes: sum((r) => r.crashes.length),
        topicProblems: sum(topicProblems),
        verifyDifferences: sum(verifyDifferences),
        recoveryP50Ms: percentile(recovered, 50),
        recoveryMaxMs: mine.some((r) => r.recoveryMs === null) ? null : percentile(recovered, 100),
        unrecovered: mine.length - recovered.length,
      };
    })
    .filter((row) => row.rounds > 0);
}

/** Every reason the run fails, one line each; empty when it passed. */
export function failures(rounds: readonly RoundResult[], recoveryTimeoutMs: number): string[] {
  const out: string[] = [];
  for (const r of rounds) {
    const at = `${r.fault} round ${r.round}`;
    if (r.lost > 0) out.push(`${at}: ${r.lost} acknowledged write(s) not in the event store`);
    if (r.duplicateKeys > 0) out.push(`${at}: ${r.duplicateKeys} Idempotency-Key(s) applied more than once`);
    if (r.answers.status500 > 0) out.push(`${at}: ${r.answers.status500} answer(s) were 500`);
    if (r.answers.otherFivexx > 0) {
      out.push(`${at}: ${r.answers.otherFivexx} 5xx answer(s) other than 500 or a 503 with Retry-After`);
    }
    if (r.reads.status500 > 0) out.push(`${at}: ${r.reads.status500} read(s) were answered 500`);
    if (r.reads.otherFivexx > 0) {
      out.push(`${at}: ${r.reads.otherFivexx} read answer(s) were a 5xx other than 500 or a 503 with Retry-After`);
    }
    for (const c of r.crashes) out.push(`${at}: ${c.component} (pid ${c.pid}) died without being the fault's target`);
    if (r.topic.missing > 0) out.push(`${at}: ${r.topic.missing} committed event(s) never reached the topic`);
    if (r.topic.problems.length > 0) out.push(`${at}: ${r.topic.problems.length} ordering problem(s) on the topic`);
    if (r.verify.differences === null) out.push(`${at}: verify could not check (exit ${r.verify.exitCode})`);
    else if (r.verify.differences > 0) out.push(`${at}: verify found ${r.verify.differences} difference(s)`);
    if (r.recoveryMs === null) out.push(`${at}: not ready again within ${Math.round(recoveryTimeoutMs / 1000)} s`);
    if (r.writes.unresolved > 0) out.push(`${at}: ${r.writes.unresolved} write(s) never got an answer when resent`);
    for (const e of r.errors) out.push(`${at}: ${e}`);
  }
  return out;
}

export const seconds = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

/** When a crash happened, relative to the fault. */
export const crashTime = (atMs: number): string =>
  atMs < 0 ? `${seconds(-atMs)} before the fault` : `${seconds(atMs)} after the fault`;

const HEADER = [
  'fault',
  'rounds',
  'writes acked',
  'lost',
  '5xx (of which 500)',
  'reads',
  'read 5xx (of which 500)',
  'process crashes',
  'topic gaps/reorders',
  'verify differences',
  'recovery p50',
  'recovery max',
];

function cells(row: SummaryRow): string[] {
  return [
    row.title,
    String(row.rounds),
    String(row.acknowledged),
    String(row.lost),
    `${row.fivexx} (${row.status500})`,
    String(row.reads),
    `${row.readFivexx} (${row.readStatus500})`,
    String(row.crashes),
    String(row.topicProblems),
    String(row.verifyDifferences),
    seconds(row.recoveryP50Ms),
    row.unrecovered > 0 ? `> bound (${row.unrecovered} round(s))` : seconds(row.recoveryMaxMs),
  ];
}

export function markdownTable(rows: readonly SummaryRow[]): string {
  const lines = [
    `| ${HEADER.join(' | ')} |`,
    `|---|${HEADER.slice(1)
      .map(() => '--:')
      .join('|')}|`,
  ];
  for (const row of rows) lines.push(`| ${cells(row).join(' | ')} |`);
  return lines.join('\n');
}

/** The same table for a terminal: padded columns. */
export function textTable(rows: readonly SummaryRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export interface ChaosReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  mode: 'full' | 'quick';
  partial: boolean;
  commit: string;
  load: {
    concurrency: number;
    readers: number;
    pauseMs: number;
    phases: { warmMs: number; downMs: number; afterMs: number };
  };
  roundsPerFault: number;
  rows: SummaryRow[];
  failures: string[];
  passed: boolean;
  rounds: RoundResult[];
}

export function renderMarkdown(report: ChaosReport): string {
  const { phases } = report.load;
  const lines = [
    `# Chaos run, ${report.startedAt.slice(0, 10)}`,
    '',
    `\`npm run chaos${report.mode === 'quick' ? ' -- --quick' : ''}\` at ${report.commit}, ${report.roundsPerFault} round(s) per fault, ` +
      `${Math.round(report.durationMs / 1000)} s in all. Load: ${report.load.concurrency} writers and ` +
      `${report.load.readers} readers, ${report.load.pauseMs} ms pause after each answer (creates, price changes, ` +
      'restocks, reservations, each with an Idempotency-Key; reads by id, price histories, list pages and stats ' +
      `in turn); ${phases.warmMs / 1000} s of load before each fault, the hit part down ` +
      `${phases.downMs / 1000} s, ${phases.afterMs / 1000} s of load after recovery.`,
    '',
    markdownTable(report.rows),
    '',
    report.passed ? '**Result: pass.**' : `**Result: FAIL** (${report.failures.length} finding(s)):`,
  ];
  if (!report.passed) {
    for (const f of report.failures.slice(0, 50)) lines.push(`- ${f}`);
    if (report.failures.length > 50) lines.push(`- ... and ${report.failures.length - 50} more`);
  }
  lines.push(
    '',
    '"writes acked": 2xx answers, counting writes that got theirs only when resent with the same Idempotency-Key. ' +
      '"lost": acknowledged writes whose event (found by its Idempotency-Key) is not in the event store at the ' +
      'answered version. "5xx": every 5xx during the round; a 503 with Retry-After is allowed during a fault, a 500 ' +
      'never is. "reads": requests of the readers to the query service; "read 5xx" judges them the same way. ' +
      '"process crashes": a part of the stack that died without being the fault\'s target. "topic ' +
      'gaps/reorders": committed events missing from `product-events` or out of version order (a fresh consumer ' +
      'group; duplicates are allowed). "verify differences": `npm run verify -- --wait-ms 60000` after the round. ' +
      '"recovery": fault to both services answering `/health/ready` 200 (and the hit part healthy again).',
  );
  const crashes = report.rounds.flatMap((r) => r.crashes.map((c) => ({ r, c })));
  if (crashes.length > 0) {
    lines.push('', '## Crashes', '');
    for (const { r, c } of crashes.slice(0, 10)) {
      lines.push(
        `${r.fault} round ${r.round}: ${c.component} (pid ${c.pid}) died ${crashTime(c.atMs)}. Its log ended:`,
        '',
        '```',
        ...c.logTail,
        '```',
        '',
      );
    }
  }
  lines.push('', '## Rounds', '');
  lines.push(
    '| fault | round | target | sent | acked (on retry) | resent | 503 w/ Retry-After | 500 | other 5xx | reads | read 503 / 500 / other 5xx | crashes | topic records (dup) | verify | recovery |',
  );
  lines.push('|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|');
  for (const r of report.rounds) {
    lines.push(
      `| ${r.fault} | ${r.round} | ${r.target} | ${r.writes.sent} | ${r.writes.acknowledged} (${r.writes.acknowledgedOnRetry}) | ` +
        `${r.writes.resent} | ${r.answers.status503RetryAfter} | ${r.answers.status500} | ${r.answers.otherFivexx} | ` +
        `${r.reads.sent} | ${r.reads.status503RetryAfter} / ${r.reads.status500} / ${r.reads.otherFivexx} | ` +
        `${r.crashes.length} | ${r.topic.records} (${r.topic.duplicates}) | ${r.verify.summary} | ${seconds(r.recoveryMs)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `2025-06-01T14-03-22Z` (or with `-quick`): the results' file stem. */
export function resultStem(startedAt: string, mode: 'full' | 'quick', partial: boolean): string {
  const stamp = `${startedAt.slice(0, 19).replaceAll(':', '-')}Z`;
  return `${stamp}${mode === 'quick' ? '-quick' : ''}${partial ? '-partial' : ''}`;
}

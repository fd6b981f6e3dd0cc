import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FaultName } from '../../../scripts/chaos/options.ts';
import {
  type ChaosReport,
  crashTime,
  failures,
  markdownTable,
  percentile,
  type RoundResult,
  renderMarkdown,
  resultStem,
  summarise,
  textTable,
} from '../../../scripts/chaos/report.ts';

const round = (fault: FaultName, n: number, extra: Partial<RoundResult> = {}): RoundResult => ({
  fault,
  round: n,
  target: fault,
  startedAt: '2026-01-02T03:04:05.000Z',
  writes: { sent: 100, acknowledged: 90, acknowledgedOnRetry: 5, resent: 10, unresolved: 0, rejected: {} },
  answers: { statuses: { '200': 90 }, fivexx: 4, status500: 0, status503RetryAfter: 4, otherFivexx: 0 },
  reads: {
    sent: 50,
    statuses: { '200': 48, '503': 2 },
    fivexx: 2,
    status500: 0,
    status503RetryAfter: 2,
    otherFivexx: 0,
  },
  lost: 0,
  lostSamples: [],
  duplicateKeys: 0,
  topic: { records: 90, duplicates: 0, missing: 0, problems: [] },
  verify: { differences: 0, exitCode: 0, summary: 'clean' },
  crashes: [],
  recoveryMs: 1000 * n,
  errors: [],
  ...extra,
});

describe('percentile', () => {
  test('nearest rank', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([5], 50), 5);
    assert.equal(percentile([3, 1, 2], 50), 2);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([4, 1, 3, 2], 100), 4);
  });
});

describe('summarise', () => {
  test('one row per fault that ran, in the given order, with sums and recovery p50/max', () => {
    const rows = summarise(
      [
        round('pg-restart', 1),
        round('command-kill', 1, { lost: 2 }),
        round('command-kill', 2, {
          answers: { statuses: {}, fivexx: 3, status500: 3, status503RetryAfter: 0, otherFivexx: 0 },
        }),
        round('command-kill', 3),
      ],
      ['command-kill', 'query-kill', 'pg-restart'],
    );
    assert.deepEqual(
      rows.map((r) => r.fault),
      ['command-kill', 'pg-restart'],
    );
    const kill = rows[0];
    assert.equal(kill?.rounds, 3);
    assert.equal(kill?.acknowledged, 270);
    assert.equal(kill?.lost, 2);
    assert.equal(kill?.fivexx, 11);
    assert.equal(kill?.status500, 3);
    assert.equal(kill?.reads, 150);
    assert.equal(kill?.readFivexx, 6);
    assert.equal(kill?.readStatus500, 0);
    assert.equal(kill?.recoveryP50Ms, 2000);
    assert.equal(kill?.recoveryMaxMs, 3000);
    assert.equal(kill?.unrecovered, 0);
  });

  test('a round that did not recover has no max; a verify that could not run counts as a difference', () => {
    const [row] = summarise(
      [
        round('ferretdb-restart', 1, { recoveryMs: null }),
        round('ferretdb-restart', 2, { verify: { differences: null, exitCode: 2, summary: 'could not check' } }),
      ],
      ['ferretdb-restart'],
    );
    assert.equal(row?.unrecovered, 1);
    assert.equal(row?.recoveryMaxMs, null);
    assert.equal(row?.recoveryP50Ms, 2000);
    assert.equal(row?.verifyDifferences, 1);
    assert.match(markdownTable([row as NonNullable<typeof row>]), /> bound \(1 round\(s\)\)/);
  });
});

describe('failures', () => {
  test('a clean run has none, whatever number of 503s with Retry-After', () => {
    assert.deepEqual(failures([round('command-kill', 1), round('pg-restart', 1)], 120_000), []);
  });

  test('each criterion fails the run', () => {
    const cases: Partial<RoundResult>[] = [
      { lost: 1 },
      { duplicateKeys: 1 },
      { answers: { statuses: {}, fivexx: 1, status500: 1, status503RetryAfter: 0, otherFivexx: 0 } },
      { answers: { statuses: {}, fivexx: 1, status500: 0, status503RetryAfter: 0, otherFivexx: 1 } },
      { reads: { sent: 9, statuses: {}, fivexx: 1, status500: 1, status503RetryAfter: 0, otherFivexx: 0 } },
      { reads: { sent: 9, statuses: {}, fivexx: 1, status500: 0, status503RetryAfter: 0, otherFivexx: 1 } },
      { crashes: [{ component: 'command-service', pid: 42, atMs: 1200, logTail: [] }] },
      { topic: { records: 1, duplicates: 0, missing: 1, problems: [] } },
      { topic: { records: 1, duplicates: 0, missing: 0, problems: ['x: version 3 arrived after 1'] } },
      { verify: { differences: 3, exitCode: 1, summary: '3 difference(s)' } },
      { verify: { differences: null, exitCode: 2, summary: 'could not check' } },
      { recoveryMs: null },
      { writes: { sent: 1, acknowledged: 0, acknowledgedOnRetry: 0, resent: 1, unresolved: 1, rejected: {} } },
      { errors: ['recovering: postgres did not start'] },
    ];
    for (const extra of cases) {
      const found = failures([round('pg-terminate', 2, extra)], 120_000);
      assert.equal(found.length, 1, JSON.stringify(extra));
      assert.match(found[0] ?? '', /^pg-terminate round 2: /);
    }
  });
});

describe('rendering', () => {
  const report = (rounds: RoundResult[]): ChaosReport => {
    const found = failures(rounds, 120_000);
    return {
      startedAt: '2026-01-02T03:04:05.678Z',
      finishedAt: '2026-01-02T03:14:05.678Z',
      durationMs: 600_000,
      mode: 'full',
      partial: false,
      commit: 'abc1234',
      load: { concurrency: 4, readers: 2, pauseMs: 50, phases: { warmMs: 5000, downMs: 3000, afterMs: 5000 } },
      roundsPerFault: rounds.length,
      rows: summarise(rounds, ['command-kill']),
      failures: found,
      passed: found.length === 0,
      rounds,
    };
  };

  test('the Markdown table has the header and one row per fault', () => {
    const table = markdownTable(summarise([round('command-kill', 1)], ['command-kill']));
    const lines = table.split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^\| fault \| rounds \| writes acked \| lost \| 5xx \(of which 500\) \|/);
    assert.equal(lines[2], '| SIGKILL command service | 1 | 90 | 0 | 4 (0) | 50 | 2 (0) | 0 | 0 | 0 | 1.0 s | 1.0 s |');
    // The fault left-aligned, every figure right-aligned.
    assert.equal(lines[1], `|---|${Array(11).fill('--:').join('|')}|`);
  });

  test('the text table pads its columns', () => {
    const lines = textTable(summarise([round('command-kill', 1)], ['command-kill'])).split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines[0]?.startsWith('fault                  '));
    assert.ok(lines[1]?.endsWith('1.0 s'));
  });

  test('a passing report says so; a failing one lists its findings and the crash logs', () => {
    assert.match(renderMarkdown(report([round('command-kill', 1)])), /\*\*Result: pass\.\*\*/);
    const failed = renderMarkdown(
      report([
        round('command-kill', 1, {
          crashes: [{ component: 'query-service', pid: 7, atMs: 500, logTail: ['TypeError: boom'] }],
        }),
      ]),
    );
    assert.match(failed, /\*\*Result: FAIL\*\* \(1 finding\(s\)\)/);
    assert.match(failed, /- command-kill round 1: query-service \(pid 7\) died/);
    assert.match(failed, /TypeError: boom/);
    assert.match(failed, /died 0\.5 s after the fault/);
    assert.equal(crashTime(-1500), '1.5 s before the fault');
  });

  test('file stems: date, quick, partial', () => {
    assert.equal(resultStem('2026-01-02T03:04:05.678Z', 'full', false), '2026-01-02T03-04-05Z');
    assert.equal(resultStem('2026-01-02T03:04:05.678Z', 'quick', false), '2026-01-02T03-04-05Z-quick');
    assert.equal(resultStem('2026-01-02T03:04:05.678Z', 'quick', true), '2026-01-02T03-04-05Z-quick-partial');
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { checkTopic, findDuplicateKeys, findLost, findStreamGaps } from './chaos/checks.ts';
import { endOffsets, type PartitionOffset, readTopic, storedEvents } from './chaos/event-log.ts';
import { type FaultContext, faults } from './chaos/faults.ts';
import { LoadState, MixedLoad, RoundTally, resendPending, type Target } from './chaos/load.ts';
import { ProcessMonitor } from './chaos/monitor.ts';
import { type ChaosOptions, FAULT_TITLES, type FaultName, parseChaosArgs, USAGE, UsageError } from './chaos/options.ts';
import { ReadLoad, ReadTally } from './chaos/reads.ts';
import {
  type ChaosReport,
  crashTime,
  failures,
  type RoundResult,
  renderMarkdown,
  resultStem,
  seconds,
  summarise,
  textTable,
} from './chaos/report.ts';
import type { Component } from './stack/component.ts';
import { ports, repoRoot, stateDir, urls } from './stack/paths.ts';
import { apiToken, serviceComponents } from './stack/services.ts';
import { allComponents } from './stack/stack.ts';

/**
 * `npm run chaos`: under a steady mixed write load against the running stack (the one `npm run up`
 * started, found through STACK_DIR and the port variables like every stack command), injects one
 * fault at a time, several rounds each, and after each round checks that nothing acknowledged was
 * lost, that the topic holds every committed event in order, that `npm run verify` is clean, and
 * that both services are ready again (and how long that took). Prints a table and writes it to
 * chaos/results/. Exits 1 when a check failed, 2 when the stack is not running or the arguments
 * are wrong. Only ever talks to 127.0.0.1, and only hits processes through the stack's PID files.
 */

const TOPIC = process.env.KAFKA_TOPIC ?? 'product-events';
const brokers = urls.brokers.split(',');
const t0 = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(message: string): void {
  const elapsed = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[chaos ${elapsed}s] ${message}\n`);
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

const servicesReady = async (): Promise<boolean> =>
  (await Promise.all([ready(urls.command), ready(urls.query)])).every(Boolean);

/** Every part of the stack runs and answers its own check, and both services are ready. */
async function preflight(components: readonly Component[]): Promise<string[]> {
  const problems: string[] = [];
  for (const name of ['command-service', 'query-service']) {
    if (!serviceComponents.some((c) => c.name === name)) problems.push(`${name}: not part of this stack`);
  }
  await Promise.all(
    components.map(async (c) => {
      if (c.pid() === undefined) problems.push(`${c.name}: not running`);
      else if (!(await c.healthy().catch(() => false))) problems.push(`${c.name}: not healthy`);
    }),
  );
  return problems;
}

interface Verified {
  differences: number | null;
  exitCode: number | null;
  summary: string;
}

/** `npm run verify -- --wait-ms N` against this stack (its script, run directly: no npm overhead). */
function runVerify(waitMs: number): Promise<Verified> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts/verify.ts'), '--wait-ms', String(waitMs)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DATABASE_URL: urls.database, MONGO_URL: urls.mongo, KAFKA_BROKERS: urls.brokers },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), waitMs + 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const clean = /verify: clean/.test(out);
      const found = /verify: (\d+) difference/.exec(out);
      const differences = clean ? 0 : found ? Number(found[1]) : null;
      const lines = out.split('\n').filter((l) => l.trim().length > 0);
      if (differences !== 0) for (const line of lines.slice(0, 12)) log(`  verify| ${line}`);
      resolve({
        differences,
        exitCode: code,
        summary: clean ? 'clean' : found ? `${found[1]} difference(s)` : `could not check (exit ${code})`,
      });
    });
  });
}

interface Run {
  options: ChaosOptions;
  state: LoadState;
  monitor: ProcessMonitor;
  target: () => Target;
  start: PartitionOffset[];
  components: Component[];
  /** Lost writes and duplicate keys already reported, so a later round does not count them again. */
  reportedLost: Set<string>;
  reportedDuplicates: Set<string>;
}

/** Starts every part that is not running (one that crashed), in dependency order. */
async function heal(run: Run, errors: string[]): Promise<void> {
  for (const c of run.monitor.down()) {
    log(`${c.name} is down: starting it`);
    try {
      await c.start();
      run.monitor.expectUp(c.name);
    } catch (error) {
      errors.push(`restarting ${c.name}: ${(error as Error).message}`);
    }
  }
}

async function runRound(run: Run, fault: FaultName, round: number): Promise<RoundResult> {
  const { options, state, monitor } = run;
  const impl = faults[fault];
  const target = impl.target(round);
  const errors: string[] = [];
  const tally = new RoundTally();
  const startedAt = new Date().toISOString();
  log(`${FAULT_TITLES[fault]}, round ${round}/${options.rounds} (target: ${target})`);
  // Crashes are timed from the fault; one during the warm-up shows as "before the fault".
  monitor.beginRound(Date.now() + options.phases.warmMs);
  const load = new MixedLoad(run.target, state, tally, options);
  const reads = new ReadLoad(urls.query, state, new ReadTally(), { ...options, concurrency: options.readers });
  await sleep(options.phases.warmMs);

  const ctx: FaultContext = {
    monitor,
    downMs: options.phases.downMs,
    startTimeoutMs: options.recoveryTimeoutMs,
    log: (m) => log(`  ${m}`),
  };
  const faultAt = Date.now();
  monitor.markFault(faultAt);
  try {
    await impl.inject(round, ctx);
  } catch (error) {
    errors.push(`injecting the fault: ${(error as Error).message}`);
  }
  try {
    await impl.recover(round, ctx);
  } catch (error) {
    errors.push(`recovering: ${(error as Error).message}`);
  }
  const deadline = faultAt + options.recoveryTimeoutMs;
  let recoveryMs: number | null = null;
  while (Date.now() < deadline) {
    // A part that died on its own meanwhile (a crash, recorded by the monitor) is started again.
    if (monitor.down().length > 0) await heal(run, errors);
    if (monitor.down().length === 0 && (await servicesReady())) {
      recoveryMs = Date.now() - faultAt;
      break;
    }
    await sleep(250);
  }
  log(
    recoveryMs === null ? '  NOT ready again within the bound' : `  ready again ${seconds(recoveryMs)} after the fault`,
  );

  await sleep(options.phases.afterMs);
  await Promise.all([load.stop(), reads.stop()]);
  const pending = tally.pending.length;
  if (pending > 0) log(`  resending ${pending} write(s) without a definitive answer, same Idempotency-Key`);
  await resendPending(run.target, state, tally, {
    timeoutMs: options.retryTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  log(
    `  load: ${tally.sent} sent, ${tally.acknowledged} acknowledged (${tally.acknowledgedOnRetry} on resend), ` +
      `5xx ${tally.fivexx} (500: ${tally.status500}), statuses ${JSON.stringify(Object.fromEntries(tally.statuses))}`,
  );
  log(
    `  reads: ${reads.tally.sent} sent, 5xx ${reads.tally.fivexx} (500: ${reads.tally.status500}), ` +
      `statuses ${JSON.stringify(Object.fromEntries(reads.tally.statuses))}`,
  );

  // Checks: event store, topic, verify.
  let lost = 0;
  const lostSamples: string[] = [];
  let duplicateKeys = 0;
  let topic: RoundResult['topic'] = { records: 0, duplicates: 0, missing: 0, problems: [] };
  const sql = postgres(urls.database, {
    max: 2,
    connect_timeout: 10,
    idle_timeout: 5,
    onnotice: () => {},
    connection: { application_name: 'chaos-runner' },
  });
  try {
    const stored = await storedEvents(sql, [...state.attempted]);
    for (const w of findLost(stored, state.acked)) {
      if (run.reportedLost.has(w.key)) continue;
      run.reportedLost.add(w.key);
      lost += 1;
      if (lostSamples.length < 20) lostSamples.push(`${w.kind} ${w.productId} v${w.version} (${w.key}): ${w.reason}`);
    }
    for (const key of findDuplicateKeys(stored)) {
      if (run.reportedDuplicates.has(key)) continue;
      run.reportedDuplicates.add(key);
      duplicateKeys += 1;
    }
    errors.push(...findStreamGaps(stored).slice(0, 10));
    const events = [...stored.values()].reduce((n, e) => n + e.length, 0);
    const read = await readTopic(
      brokers,
      TOPIC,
      `chaos-check-${state.runId}-${fault}-${round}`,
      run.start,
      stored,
      options.topicTimeoutMs,
    );
    topic = checkTopic(stored, read.records);
    log(
      `  store: ${state.acked.length} acknowledged writes of the run checked, ${lost} lost, ${duplicateKeys} applied twice; ` +
        `topic: ${events} events of ${stored.size} products, ${topic.records} records read in ${seconds(read.elapsedMs)}, ` +
        `${topic.duplicates} duplicate(s), ${topic.missing} missing, ${topic.problems.length} ordering problem(s)`,
    );
    for (const line of [...lostSamples, ...topic.problems].slice(0, 10)) log(`    ${line}`);
  } catch (error) {
    errors.push(`checking the event store and the topic: ${(error as Error).message}`);
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
  const verify = await runVerify(options.verifyWaitMs);
  log(`  verify: ${verify.summary}`);
  await heal(run, errors);
  const crashes = monitor.roundCrashes();
  for (const e of errors) log(`  ERROR ${e}`);
  return {
    fault,
    round,
    target,
    startedAt,
    writes: {
      sent: tally.sent,
      acknowledged: tally.acknowledged,
      acknowledgedOnRetry: tally.acknowledgedOnRetry,
      resent: tally.resent,
      unresolved: tally.unresolved,
      rejected: Object.fromEntries(tally.rejected),
    },
    answers: tally.summary(),
    reads: { sent: reads.tally.sent, ...reads.tally.summary() },
    lost,
    lostSamples,
    duplicateKeys,
    topic,
    verify,
    crashes,
    recoveryMs,
    errors,
  };
}

function commitOf(): string {
  const out = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: repoRoot, encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : 'unknown';
}

function save(report: ChaosReport): string[] {
  const dir = join(repoRoot, 'chaos', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = resultStem(report.startedAt, report.mode, report.partial);
  const json = join(dir, `${stem}.json`);
  const md = join(dir, `${stem}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(report));
  const written = [json, md];
  // A run of some faults only (--only) does not replace the latest figures.
  if (!report.partial) {
    const suffix = report.mode === 'quick' ? '-quick' : '';
    for (const [from, ext] of [
      [json, 'json'],
      [md, 'md'],
    ] as const) {
      const to = join(dir, `latest${suffix}.${ext}`);
      copyFileSync(from, to);
      written.push(to);
    }
  }
  return written;
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  const startedAt = new Date().toISOString();
  const components = allComponents();
  log(
    `stack in ${stateDir}: command ${urls.command}, query ${urls.query}, PostgreSQL 127.0.0.1:${ports.postgres}, ` +
      `Kafka ${urls.brokers}, MongoDB 127.0.0.1:${ports.mongo}`,
  );
  log(
    `${options.faults.length} fault(s) x ${options.rounds} round(s)${options.quick ? ' (quick)' : ''}; load: ` +
      `${options.concurrency} writers and ${options.readers} readers, ${options.pauseMs} ms pause`,
  );
  const problems = await preflight(components);
  if (problems.length > 0) {
    for (const p of problems) console.error(`chaos: ${p}`);
    console.error('chaos: the whole stack must be running and ready first: npm run up -- --detach');
    return 2;
  }

  // Hard bound on the whole run, whatever hangs: each round is bounded far below this.
  const perRoundMs =
    options.phases.warmMs +
    options.phases.downMs +
    options.phases.afterMs +
    3 * options.recoveryTimeoutMs +
    options.retryTimeoutMs +
    options.topicTimeoutMs +
    options.verifyWaitMs +
    120_000;
  const watchdog = setTimeout(
    () => {
      log(
        `the run exceeded its bound of ${Math.round((perRoundMs * options.faults.length * options.rounds) / 60_000)} min: giving up`,
      );
      process.exit(3);
    },
    perRoundMs * options.faults.length * options.rounds,
  );
  watchdog.unref();

  const token = apiToken();
  const state = new LoadState();
  const monitor = new ProcessMonitor(components, (c) =>
    log(
      `  CRASH ${c.component} (pid ${c.pid}) died ${crashTime(c.atMs)}; log tail: ${c.logTail.slice(-3).join(' | ')}`,
    ),
  );
  const run: Run = {
    options,
    state,
    monitor,
    target: () => ({ url: urls.command, token }),
    start: await endOffsets(brokers, TOPIC),
    components,
    reportedLost: new Set(),
    reportedDuplicates: new Set(),
  };
  monitor.start();
  const rounds: RoundResult[] = [];
  try {
    for (const fault of options.faults) {
      for (let round = 1; round <= options.rounds; round++) rounds.push(await runRound(run, fault, round));
    }
  } finally {
    monitor.stop();
  }

  const found = failures(rounds, options.recoveryTimeoutMs);
  const report: ChaosReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - t0,
    mode: options.quick ? 'quick' : 'full',
    partial: options.partial,
    commit: commitOf(),
    load: {
      concurrency: options.concurrency,
      readers: options.readers,
      pauseMs: options.pauseMs,
      phases: options.phases,
    },
    roundsPerFault: options.rounds,
    rows: summarise(rounds, options.faults),
    failures: found,
    passed: found.length === 0,
    rounds,
  };
  console.log(`\n${textTable(report.rows)}\n`);
  if (report.passed) console.log(`chaos: pass (${Math.round(report.durationMs / 1000)} s)`);
  else {
    console.log(`chaos: FAIL, ${found.length} finding(s):`);
    for (const f of found) console.log(`  - ${f}`);
  }
  if (options.save) for (const file of save(report)) log(`wrote ${file.replace(`${repoRoot}/`, '')}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos: failed to run:', error);
    process.exit(2);
  },
);

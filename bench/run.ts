import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { urls } from '../scripts/stack/paths.ts';
import { serviceEnv } from '../scripts/stack/services.ts';
import { type Check, END_OFFSET_FIELDS, exhaustionCheck, noOversellCheck, sumFields } from './checks.ts';
import { type ConsoleStreamsResult, describeConsoleStreams, openStreams, type StreamsRun } from './console-streams.ts';
import { CpuRun, CpuSampler, describeCpu } from './cpu.ts';
import { cpuGroups, type Databases, stackPids, type WatchedPids } from './cpu-groups.ts';
import {
  describeChunks,
  describeEventAge,
  eventAgeBetween,
  parseChunkTotals,
  parseEventAge,
  readQueryMetrics,
} from './event-age.ts';
import { closedLoop, HttpClient, log, pacedLoop, vuLoop } from './generator.ts';
import type { ListScalingResult } from './list-report.ts';
import { type ListScalingStep, runListScaling } from './list-scaling.ts';
import { describeMachineLoad, machineLoadBetween, readMachine } from './machine-load.ts';
import { BENCH_ONLY_SCENARIOS, buildPlan, type Step } from './plan.ts';
import { type ProfiledService, startProfiledCommandService } from './profile.ts';
import {
  type BenchReport,
  describeMachine,
  describeRebuild,
  type Measurement,
  type RebuildResult,
  type Row,
  renderMarkdown,
  renderSvg,
  resultStem,
  TARGET_LABELS,
  type TargetName,
} from './report.ts';
import { loadScenarioFile, type Mix, type Mode, picker, SCENARIOS_FILE, type ScenarioFile } from './scenarios.ts';
import {
  apiToken,
  type Baseline,
  endpoints,
  eventCount,
  hasNpmScript,
  machine,
  repoRoot,
  requireReady,
  runChild,
  settle,
  startBaseline,
} from './stack.ts';
import { Recorder } from './stats.ts';
import { classify, createBody, type OpContext, operation, Population, type Service } from './workloads.ts';

const HELP = `Usage: npm run bench -- [--quick] [--baselines-only] [--profile] [--only <scenario,...>]

Runs every scenario of loadtest/scenarios.json against the running services (npm run up -- --detach)
beside two baselines it starts itself (naive CRUD on 127.0.0.1:8090, trivial Hono on 127.0.0.1:8091),
then writes bench/results/<date>.{json,md,svg} and latest.{json,md,svg}. Each closed-loop run also
reports the CPU time per request of every process involved, read from /proc.

  --quick            smoke sizes; finishes in under 2 minutes (writes <date>-quick.* and latest-quick.*)
  --baselines-only   measure the baselines alone (no services needed, PostgreSQL still is)
  --profile          restart the stack's command service under node --cpu-prof for the run, then
                     write one .cpuprofile per thread to bench/results/profiles/<date>/ and
                     summarize each (the stack's own command service is started again afterwards)
  --only a,b         only these scenarios: those of loadtest/scenarios.json and ${BENCH_ONLY_SCENARIOS.join(', ')}
                     (list-scaling: list pages per sort, with and without filters, beside GET by id and
                     the trivial endpoint, at 10,000 and 100,000 products, grown by a bench-only seeding path)

Environment: COMMAND_URL, QUERY_URL, COMMAND_API_TOKEN (else .stack/api-token), DATABASE_URL, MONGO_URL,
KAFKA_VERSION (to name the brokers' version in the report), NAIVE_PORT and TRIVIAL_PORT (the baselines' ports).`;

// Overridable so that the bench can run while someone keeps a baseline of their own on the default port.
const NAIVE_PORT = Number(process.env.NAIVE_PORT ?? 8090);
const TRIVIAL_PORT = Number(process.env.TRIVIAL_PORT ?? 8091);
const BENCH_STARTED_AT = Date.now();
/** In quick mode the rebuild must end by then (from the bench's start), so the whole run stays under 2 minutes. */
const QUICK_BUDGET_MS = 112_000;
const REBUILD_TIMEOUT_MS = { full: 600_000, quick: 45_000 };
const SETTLE_MS = { full: 60_000, quick: 5_000 };

interface Urls {
  command?: string;
  query?: string;
}

/** What the bench needs to read CPU time: the sampler and where to find each process. */
interface CpuWatch {
  sampler: CpuSampler;
  pids: () => WatchedPids;
  databases: Databases;
}

function measurement(target: TargetName, recorder: Recorder): Measurement {
  return { target, ...recorder.summary(), errors: recorder.errors, outcomes: recorder.outcomes() };
}

function describeMeasurement(m: Measurement): string {
  const l = m.latencyMs;
  const latency = l
    ? `p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`
    : 'no latency';
  return `${Math.round(m.throughput).toLocaleString('en-US')}/s over ${m.requests.toLocaleString('en-US')} answers, ${latency}, ${m.errors} errors`;
}

const versionOf = (body: string): number | undefined => {
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    return typeof parsed.version === 'number' ? parsed.version : undefined;
  } catch {
    return undefined;
  }
};

class Bench {
  readonly rows: Row[] = [];
  readonly checks: Check[] = [];
  readonly notes: string[] = [];
  rebuild: RebuildResult = { status: 'skipped', detail: 'not planned' };
  consoleStreams: ConsoleStreamsResult | undefined;
  lists: ListScalingResult | undefined;
  private readonly pools: Record<TargetName, Population> = {
    ours: new Population(),
    naive: new Population(),
    trivial: new Population(),
  };
  /** Our measured closed-loop write rate per mix, for the lag run at a fraction of it. */
  private readonly writeRates = new Map<string, number>();
  private readonly progressEveryMs: number;

  constructor(
    private readonly file: ScenarioFile,
    private readonly mode: Mode,
    private readonly token: string,
    private readonly urls: Record<TargetName, Urls>,
    private readonly cpu: CpuWatch | undefined,
  ) {
    this.progressEveryMs = mode === 'quick' ? 1000 : 5000;
    // The trivial endpoint answers for any id; random ones keep its request paths the same shape.
    for (let i = 0; i < 1000; i++) this.pools.trivial.add(randomUUID());
  }

  async run(step: Step): Promise<void> {
    switch (step.kind) {
      case 'closed':
        return this.closed(step);
      case 'seed':
        return this.seed(step);
      case 'hot-throughput':
        return this.hotThroughput(step);
      case 'hot-sell-out':
        return this.hotSellOut(step);
      case 'read-your-writes':
        return this.readYourWrites(step);
      case 'lag':
        return this.lag(step);
      case 'rebuild':
        return this.rebuildStep();
      case 'console-streams':
        return this.consoleStreamsStep(step);
      case 'list-scaling':
        return this.listScaling(step);
    }
  }

  private async listScaling(step: ListScalingStep): Promise<void> {
    const queryUrl = this.url('ours', 'query');
    if (!queryUrl) return;
    const { rows, result } = await runListScaling(
      {
        queryUrl,
        trivialUrl: this.url('trivial', 'query'),
        databaseUrl: endpoints.database,
        token: this.token,
        progressEveryMs: this.progressEveryMs,
        settleMs: this.mode === 'quick' ? 60_000 : 900_000,
        cpu: {
          start: (target) => this.startCpu(target, 'query'),
          stop: (run, m, label) => this.stopCpu(run, m, label),
        },
      },
      step,
    );
    this.rows.push(...rows);
    this.lists = result;
  }

  private url(target: TargetName, service: 'command' | 'query'): string | undefined {
    return this.urls[target][service];
  }

  private async settle(): Promise<void> {
    const query = this.urls.ours.query;
    if (!query) return;
    const outcome = await settle(query, SETTLE_MS[this.mode]);
    if (outcome !== 'caught up') log(`  projections: ${outcome}`);
  }

  private newRow(
    step: Step & { kind: 'closed' | 'hot-throughput' | 'read-your-writes' | 'lag' },
    path: Row['path'],
  ): Row {
    return {
      id: `${step.scenario}/${step.part}`,
      scenario: step.scenario,
      part: step.part,
      path,
      title: step.title,
      latencyKind: step.kind === 'lag' ? 'lag' : 'request',
      thresholds: step.thresholds,
      measurements: [],
      notes: [],
    };
  }

  /** Starts reading the CPU of every process a measurement involves; undefined when it cannot. */
  private async startCpu(target: TargetName, path: Service): Promise<CpuRun | undefined> {
    if (!this.cpu) return undefined;
    const { groups, missing } = cpuGroups(target, path, this.cpu.pids(), this.cpu.databases);
    if (missing.length > 0) log(`  CPU: not running, so not measured: ${missing.join(', ')}`);
    try {
      return await CpuRun.start(this.cpu.sampler, groups);
    } catch (error) {
      log(`  CPU not measured: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async stopCpu(run: CpuRun | undefined, m: Measurement, label: string): Promise<void> {
    if (!run) return;
    const usage = await run.stop(m.requests);
    if (!usage) {
      log(`${label}: no answers, so no CPU per request`);
      return;
    }
    m.cpu = usage;
    log(`${label}: CPU ${describeCpu(usage)}`);
  }

  /** A closed-loop run, with CPU sampling over its measured part (not the warm-up). */
  private async measureClosed(
    label: string,
    target: TargetName,
    path: Service,
    baseUrl: string,
    ctx: OpContext,
    mix: Mix,
    connections: number,
    durationMs: number,
    warmupMs: number,
    onOk?: (productId: string | undefined, body: string) => void,
    warmupCtx: OpContext = ctx,
  ): Promise<{ recorder: Recorder; cpu: CpuRun | undefined }> {
    const pick = picker(mix);
    const population = this.pools[target];
    const options = {
      baseUrl,
      connections,
      token: this.token,
      lenient: target === 'trivial',
      progressEveryMs: this.progressEveryMs,
      onOutcome: (spec: { op: string; productId?: string }, outcome: { ok: boolean }, body: string) => {
        if (!outcome.ok) return;
        if (spec.op === 'create' && spec.productId && target !== 'trivial') population.add(spec.productId);
        onOk?.(spec.productId, body);
      },
    };
    if (warmupMs > 0) {
      log(`${label}: warm-up for ${warmupMs / 1000} s (not recorded)`);
      await closedLoop({
        ...options,
        label: `${label} warm-up`,
        durationMs: warmupMs,
        next: () => operation(pick()).build(warmupCtx),
        onOutcome: undefined,
      });
    }
    log(`${label}: ${connections} connections for ${durationMs / 1000} s`);
    const cpu = await this.startCpu(target, path);
    try {
      const recorder = await closedLoop({ ...options, label, durationMs, next: () => operation(pick()).build(ctx) });
      return { recorder, cpu };
    } catch (error) {
      cpu?.cancel();
      throw error;
    }
  }

  private async closed(step: Step & { kind: 'closed' }): Promise<void> {
    const row = this.newRow(step, step.service);
    for (const target of step.targets) {
      const baseUrl = this.url(target, step.service);
      if (!baseUrl) continue;
      const label = `${step.title} / ${TARGET_LABELS[target]}`;
      const ctx: OpContext = { payloads: this.file.payloads, population: this.pools[target], spread: step.spread };
      const { recorder, cpu } = await this.measureClosed(
        label,
        target,
        step.service,
        baseUrl,
        ctx,
        step.mix,
        step.connections,
        step.durationMs,
        step.warmupMs,
      );
      const m = measurement(target, recorder);
      row.measurements.push(m);
      log(`${label}: ${describeMeasurement(m)}`);
      if (target === 'ours') {
        if (step.service === 'command') this.writeRates.set(JSON.stringify(step.mix), m.throughput);
        // The relay, brokers and projections finish the run's writes during the settle: catch-up CPU.
        await cpu?.lap();
        await this.settle();
      }
      await this.stopCpu(cpu, m, label);
    }
    this.rows.push(row);
  }

  private async seed(step: Step & { kind: 'seed' }): Promise<void> {
    for (const target of step.targets) {
      const baseUrl = this.url(target, 'command');
      const population = this.pools[target];
      const missing = step.products - population.size;
      if (!baseUrl || missing <= 0) continue;
      log(
        `${step.scenario}: creating ${missing.toLocaleString('en-US')} more products on ${TARGET_LABELS[target]} to reach ${step.products.toLocaleString('en-US')}`,
      );
      const ctx: OpContext = { payloads: this.file.payloads, population };
      await closedLoop({
        label: `seed / ${TARGET_LABELS[target]}`,
        baseUrl,
        connections: step.connections,
        token: this.token,
        lenient: false,
        amount: missing,
        progressEveryMs: this.progressEveryMs,
        next: () => operation('create').build(ctx),
        onOutcome: (spec, outcome) => {
          if (outcome.ok && spec.productId) population.add(spec.productId);
        },
      });
      if (population.size < step.products) {
        this.notes.push(
          `${TARGET_LABELS[target]}: only ${population.size} of ${step.products} products could be created`,
        );
      }
      if (target === 'ours') await this.settle();
    }
  }

  /** Creates one product with the given stock (the trivial endpoint needs none: any id answers). */
  private async createProduct(target: TargetName, stock: number): Promise<string> {
    const id = randomUUID();
    const baseUrl = this.url(target, 'command');
    if (target === 'trivial' || !baseUrl) return id;
    const client = new HttpClient(baseUrl, 1);
    try {
      const spec = {
        op: 'create',
        service: 'command' as const,
        method: 'POST' as const,
        path: '/products',
        body: createBody(this.file.payloads, id, stock),
        productId: id,
      };
      const answer = await client.send(spec, this.token);
      if (!classify(spec, answer.status, answer.body).ok) {
        throw new Error(`could not create a product on ${TARGET_LABELS[target]}: ${answer.status} ${answer.body}`);
      }
      return id;
    } finally {
      client.close();
    }
  }

  private async hotThroughput(step: Step & { kind: 'hot-throughput' }): Promise<void> {
    const row = this.newRow(step, 'command');
    const quantity = this.file.payloads.reserve.quantity;
    for (const target of step.targets) {
      const baseUrl = this.url(target, 'command');
      if (!baseUrl) continue;
      const label = `${step.title} / ${TARGET_LABELS[target]}`;
      const hotProductId = await this.createProduct(target, step.stock);
      const stocks: number[] = [];
      const ctx: OpContext = { payloads: this.file.payloads, population: this.pools[target], hotProductId };
      // The warm-up reserves on a product of its own, so the measured product's stock tells every unit apart.
      const warmupCtx: OpContext =
        step.warmupMs > 0 ? { ...ctx, hotProductId: await this.createProduct(target, step.stock) } : ctx;
      const { recorder, cpu } = await this.measureClosed(
        label,
        target,
        'command',
        baseUrl,
        ctx,
        step.mix,
        step.connections,
        step.durationMs,
        step.warmupMs,
        (_id, body) => {
          if (target !== 'trivial') stocks.push((JSON.parse(body) as { stock: number }).stock);
        },
        warmupCtx,
      );
      const m = measurement(target, recorder);
      row.measurements.push(m);
      log(`${label}: ${describeMeasurement(m)}`);
      if (target === 'ours') {
        await cpu?.lap();
        await this.settle();
      }
      await this.stopCpu(cpu, m, label);
      if (target !== 'trivial') {
        const check = noOversellCheck(
          `hot-product / ${TARGET_LABELS[target]}: no oversell at full speed`,
          step.stock,
          quantity,
          stocks,
          step.connections,
        );
        this.checks.push(check);
        log(`  ${check.passed ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`);
      }
    }
    this.rows.push(row);
  }

  private async hotSellOut(step: Step & { kind: 'hot-sell-out' }): Promise<void> {
    const quantity = this.file.payloads.reserve.quantity;
    for (const target of step.targets) {
      const baseUrl = this.url(target, 'command');
      if (!baseUrl) continue;
      const label = `${step.title} / ${TARGET_LABELS[target]}`;
      const hotProductId = await this.createProduct(target, step.stock);
      const ctx: OpContext = { payloads: this.file.payloads, population: this.pools[target], hotProductId };
      const pick = picker(step.mix);
      let insufficientStock = 0;
      log(`${label}: ${step.attempts} reservations on a stock of ${step.stock}, ${step.connections} connections`);
      const recorder = await closedLoop({
        label,
        baseUrl,
        connections: step.connections,
        token: this.token,
        lenient: false,
        amount: step.attempts,
        progressEveryMs: this.progressEveryMs,
        next: () => operation(pick()).build(ctx),
        onOutcome: (_spec, outcome) => {
          if (outcome.expectedRejection) insufficientStock++;
        },
      });
      const check = exhaustionCheck(`hot-product / ${TARGET_LABELS[target]}: sells exactly its stock`, {
        initialStock: step.stock,
        quantity,
        attempts: step.attempts,
        successes: recorder.count('ok'),
        insufficientStock,
        errors: recorder.errors,
      });
      this.checks.push(check);
      log(`  ${check.passed ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`);
      if (target === 'ours') await this.checkOursAfterSellOut(hotProductId, step.stock, quantity);
    }
  }

  /** The event store and the view must agree with what the clients were told. */
  private async checkOursAfterSellOut(id: string, stock: number, quantity: number): Promise<void> {
    const expected = Math.floor(stock / quantity);
    const command = new HttpClient(this.urls.ours.command as string, 1);
    const query = new HttpClient(this.urls.ours.query as string, 1);
    try {
      const events = await command.request('GET', `/products/${id}/events`, {
        accept: 'application/json',
        authorization: `Bearer ${this.token}`,
      });
      let reserved = -1;
      try {
        const items = (JSON.parse(events.body) as { items: { type: string }[] }).items;
        reserved = items.filter((e) => e.type === 'StockReserved').length;
      } catch {
        // reported below as a failed check with the answer
      }
      this.checks.push({
        name: 'hot-product / cqrs-catalog: event store holds one StockReserved per success',
        passed: reserved === expected,
        detail:
          reserved >= 0
            ? `${reserved} StockReserved events, expected ${expected}`
            : `GET events answered ${events.status}`,
      });
      const view = await query.request('GET', `/products/${id}?minVersion=${1 + expected}&maxWaitMs=5000`, {
        accept: 'application/json',
      });
      let viewStock: unknown;
      try {
        viewStock = (JSON.parse(view.body) as { stock?: unknown }).stock;
      } catch {
        viewStock = undefined;
      }
      const left = stock - expected * quantity;
      this.checks.push({
        name: 'hot-product / cqrs-catalog: the view shows the sold-out stock',
        passed: view.status === 200 && viewStock === left,
        detail: `view answered ${view.status} with stock ${String(viewStock)}, expected ${left}`,
      });
    } finally {
      command.close();
      query.close();
    }
  }

  private async readYourWrites(step: Step & { kind: 'read-your-writes' }): Promise<void> {
    const row = this.newRow(step, 'query');
    const command = new HttpClient(this.urls.ours.command as string, step.vus);
    const query = new HttpClient(this.urls.ours.query as string, step.vus);
    const recorder = new Recorder();
    // The read-back waits for the view by design; like the k6 script, its time is kept apart from p99.
    const waits = new Recorder();
    const pick = picker(step.mix);
    const ctx: OpContext = { payloads: this.file.payloads, population: this.pools.ours, spread: step.spread };
    const label = `${step.title} / ${TARGET_LABELS.ours}`;
    log(`${label}: ${step.vus} virtual users for ${step.durationMs / 1000} s, each write read back through minVersion`);
    try {
      await vuLoop({
        label,
        vus: step.vus,
        durationMs: step.durationMs,
        progressEveryMs: this.progressEveryMs,
        recorder,
        iteration: async () => {
          const spec = operation(pick()).build(ctx);
          const answer = await (spec.service === 'command' ? command : query).send(spec, this.token);
          recorder.latency(answer.ms);
          const outcome = classify(spec, answer.status, answer.body);
          recorder.outcome(answer.status === 0 ? 'transport error' : `${spec.op} ${outcome.key}`, !outcome.ok);
          if (spec.service !== 'command' || !outcome.ok) return;
          const version = versionOf(answer.body);
          if (version === undefined) {
            recorder.outcome('read-your-writes impossible: the write answered no version', true);
            return;
          }
          const read = await query.request(
            'GET',
            `/products/${spec.productId}?minVersion=${version}&maxWaitMs=${step.maxWaitMs}`,
            { accept: 'application/json' },
            undefined,
            step.maxWaitMs + 5000,
          );
          waits.latency(read.ms);
          const seen = read.status === 200 ? versionOf(read.body) : undefined;
          const ok = seen !== undefined && seen >= version;
          recorder.outcome(ok ? 'read-your-writes ok' : `read-your-writes failed (${read.status})`, !ok);
        },
      });
    } finally {
      command.close();
      query.close();
    }
    const m = measurement('ours', recorder);
    row.measurements.push(m);
    const wait = waits.summary().latencyMs;
    row.notes.push(
      'cqrs-catalog only: the baselines have no view to read back through minVersion; ' +
        `${waits.completed} read-your-writes reads waited p50 ${wait?.p50.toFixed(1) ?? '-'} ms, ` +
        `p99 ${wait?.p99.toFixed(1) ?? '-'} ms (kept out of the p99 above, as in the k6 script)`,
    );
    log(`${label}: ${describeMeasurement(m)}`);
    this.rows.push(row);
    await this.settle();
  }

  private async lag(step: Step & { kind: 'lag' }): Promise<void> {
    const row = this.newRow(step, 'end-to-end');
    const { pace } = step;
    const measured = 'perSecond' in pace ? undefined : this.writeRates.get(JSON.stringify(step.mix));
    const rate =
      'perSecond' in pace
        ? pace.perSecond
        : Math.max(1, Math.round(measured ? measured * pace.fractionOfMaxWriteRate : pace.fallbackPerSecond));
    const paceNote =
      'perSecond' in pace
        ? "(the file's fixed rate)"
        : measured
          ? `(${pace.fractionOfMaxWriteRate} x the measured ${Math.round(measured)}/s)`
          : "(no measured write rate: the file's perSecond)";
    const command = new HttpClient(this.urls.ours.command as string, step.vus);
    const query = new HttpClient(this.urls.ours.query as string, step.vus);
    const writes = new Recorder();
    const lags = new Recorder();
    const pick = picker(step.mix);
    const ctx: OpContext = { payloads: this.file.payloads, population: this.pools.ours, spread: step.spread };
    const label = `${step.title} / ${TARGET_LABELS.ours}`;
    log(`${label}: ${rate} writes/s for ${step.durationMs / 1000} s ${paceNote}`);
    const metricsBefore = await readQueryMetrics(this.urls.ours.query as string);
    const cpu = await this.startCpu('ours', 'command');
    const machineBefore = readMachine();
    let paced: { started: number; skipped: number };
    try {
      paced = await pacedLoop({
        label,
        ratePerSecond: rate,
        durationMs: step.durationMs,
        maxInFlight: step.vus,
        progressEveryMs: this.progressEveryMs,
        recorder: lags,
        iteration: async () => {
          const spec = operation(pick()).build(ctx);
          const written = await command.send(spec, this.token);
          writes.latency(written.ms);
          const outcome = classify(spec, written.status, written.body);
          writes.outcome(outcome.key, !outcome.ok);
          const version = versionOf(written.body);
          if (!outcome.ok || version === undefined) {
            lags.outcome(`write ${outcome.key}`, true);
            return;
          }
          const acknowledged = performance.now();
          const read = await query.request(
            'GET',
            `/products/${spec.productId}?minVersion=${version}&maxWaitMs=${step.maxWaitMs}`,
            { accept: 'application/json' },
            undefined,
            step.maxWaitMs + 5000,
          );
          const seen = read.status === 200 ? versionOf(read.body) : undefined;
          if (seen !== undefined && seen >= version) {
            lags.latency(performance.now() - acknowledged);
            lags.outcome('visible', false);
          } else {
            lags.outcome(
              read.status === 503 ? `not visible within ${step.maxWaitMs} ms` : `read status ${read.status}`,
              true,
            );
          }
        },
      });
    } catch (error) {
      cpu?.cancel();
      throw error;
    } finally {
      command.close();
      query.close();
    }
    const machine = machineLoadBetween(machineBefore, readMachine());
    const m = measurement('ours', lags);
    await this.stopCpu(cpu, m, label);
    if (machine) m.machine = machine;
    row.measurements.push(m);
    const w = writes.summary().latencyMs;
    row.notes.push(
      `paced at ${rate} writes/s ${paceNote}; ` +
        `${paced.skipped} iterations skipped with ${step.vus} in flight; write p50 ${w?.p50.toFixed(1) ?? '-'} ms, ` +
        `p99 ${w?.p99.toFixed(1) ?? '-'} ms; lag is timed from the write's 2xx to the minVersion read's 200`,
    );
    const metricsAfter = await readQueryMetrics(this.urls.ours.query as string);
    const explanations: string[] = [];
    if (metricsBefore && metricsAfter) {
      const ages = describeEventAge(eventAgeBetween(parseEventAge(metricsBefore), parseEventAge(metricsAfter)));
      const [chunksBefore, chunksAfter] = [parseChunkTotals(metricsBefore), parseChunkTotals(metricsAfter)];
      const chunks = chunksBefore && chunksAfter ? describeChunks(chunksBefore, chunksAfter) : undefined;
      for (const line of [ages, chunks]) if (line) explanations.push(line);
    }
    if (machine) explanations.push(describeMachineLoad(machine));
    row.notes.push(...explanations);
    log(`${label}: lag ${describeMeasurement(m)}; ${paced.skipped} skipped`);
    for (const line of explanations) log(`  ${line}`);
    this.rows.push(row);
  }

  /**
   * GET by id at full speed twice: with no console stream open, then with `streams` open and read
   * (a stream costs the service one shared event a second, so reads should not notice them).
   */
  private async consoleStreamsStep(step: Step & { kind: 'console-streams' }): Promise<void> {
    const query = this.url('ours', 'query');
    if (!query) return;
    await this.settle();
    const ctx: OpContext = { payloads: this.file.payloads, population: this.pools.ours, spread: step.spread };
    const run = async (label: string): Promise<StreamsRun> => {
      const { recorder, cpu } = await this.measureClosed(
        label,
        'ours',
        'query',
        query,
        ctx,
        step.mix,
        step.connections,
        step.durationMs,
        step.warmupMs,
      );
      cpu?.cancel();
      const m = measurement('ours', recorder);
      log(`${label}: ${describeMeasurement(m)}`);
      return { throughput: m.throughput, requests: m.requests, latencyMs: m.latencyMs, errors: m.errors };
    };
    const without = await run(`${step.title} / no stream`);
    log(`${step.title}: opening ${step.streams} streams to ${query}/projections/stream`);
    const streams = await openStreams(query, step.streams);
    try {
      const eventsBefore = streams.events();
      const withStreams = await run(`${step.title} / ${step.streams} streams`);
      this.consoleStreams = {
        status: 'measured',
        detail: `${step.connections} connections, ${step.durationMs / 1000} s each.`,
        streams: step.streams,
        without,
        with: withStreams,
        eventsPerStream: (streams.events() - eventsBefore) / step.streams,
        streamsEnded: streams.ended(),
      };
    } finally {
      streams.close();
    }
    log(`console streams: ${describeConsoleStreams(this.consoleStreams)}`);
  }

  private async rebuildStep(): Promise<void> {
    if (!hasNpmScript('rebuild')) {
      this.rebuild = { status: 'not available', detail: 'package.json has no "rebuild" script yet' };
      log(`rebuild: ${describeRebuild(this.rebuild)}`);
      return;
    }
    await this.settle();
    const left = BENCH_STARTED_AT + QUICK_BUDGET_MS - Date.now();
    const timeoutMs = this.mode === 'quick' ? Math.min(REBUILD_TIMEOUT_MS.quick, left) : REBUILD_TIMEOUT_MS.full;
    if (timeoutMs < 5000) {
      this.rebuild = { status: 'skipped', detail: 'the quick run used up its time budget before the rebuild' };
      log(`rebuild: ${describeRebuild(this.rebuild)}`);
      return;
    }
    const events = (await eventCount(endpoints.database)) ?? (await this.topicSize());
    log(
      `rebuild: npm run rebuild (${events?.toLocaleString('en-US') ?? 'an unknown number of'} events), at most ${timeoutMs / 1000} s`,
    );
    // The stack's own servers (its ports may be moved with STACK_* variables), unless set explicitly:
    // with only the defaults, a bench of one stack rebuilt against another stack's Kafka.
    const run = await runChild('rebuild', 'npm', ['run', '--silent', 'rebuild'], timeoutMs, {
      ...serviceEnv(),
      ...process.env,
    });
    const own = run.lastLine ? ` Its last line: "${run.lastLine}".` : '';
    if (run.timedOut) {
      this.rebuild = {
        status: 'timed out',
        detail: `stopped after ${(timeoutMs / 1000).toFixed(0)} s with ${events ?? '?'} events to replay.${own}`,
      };
    } else if (run.code !== 0) {
      this.rebuild = { status: 'failed', detail: `npm run rebuild exited with ${run.code}.${own}` };
    } else {
      this.rebuild = {
        status: 'measured',
        seconds: run.seconds,
        ...(events === undefined ? {} : { events, eventsPerSecond: events / run.seconds }),
        detail: `Wall time of npm run rebuild, process start-up and consumer-group join included.${own}`,
      };
    }
    log(`rebuild: ${describeRebuild(this.rebuild)}`);
  }

  private async topicSize(): Promise<number | undefined> {
    try {
      const response = await fetch(`${this.urls.ours.query}/projections`, { signal: AbortSignal.timeout(3000) });
      return sumFields(await response.json(), END_OFFSET_FIELDS);
    } catch {
      return undefined;
    }
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'baselines-only': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const mode: Mode = values.quick ? 'quick' : 'full';
  const baselinesOnly = values['baselines-only'] ?? false;
  const profile = values.profile ?? false;
  if (profile && baselinesOnly) {
    throw new Error('--profile profiles the command service, which --baselines-only leaves out');
  }
  if (profile && endpoints.command !== urls.command) {
    throw new Error(`--profile restarts the local stack's command service (${urls.command}), not ${endpoints.command}`);
  }
  const file = loadScenarioFile();
  const only = values.only?.split(',').map((name) => name.trim());
  const plan = buildPlan(file, { mode, baselinesOnly, ...(only ? { only } : {}) });
  const startedAt = new Date();
  const dir = join(repoRoot, 'bench', 'results');
  // A partial run (--only) writes files of its own, so it never replaces a full run's figures.
  const suffix = `${only ? `-${only.join('+')}` : ''}${mode === 'quick' ? '-quick' : ''}`;
  const stem = `${resultStem(startedAt)}${suffix}`;
  log(
    `cqrs-catalog bench, ${mode} mode${baselinesOnly ? ', baselines only' : ''}: ${plan.length} steps from ${SCENARIOS_FILE}`,
  );

  let token: string;
  if (baselinesOnly) {
    token = process.env.COMMAND_API_TOKEN ?? 'bench-baselines-only-token';
  } else {
    await requireReady({ 'command service': endpoints.command, 'query service': endpoints.query });
    token = apiToken();
    log(`services ready: command ${endpoints.command}, query ${endpoints.query}`);
  }

  const baselines: Baseline[] = [];
  let sampler: CpuSampler | undefined;
  let profiled: ProfiledService | undefined;
  const cleanUp = async () => {
    await Promise.all(baselines.map((b) => b.stop()));
    await sampler?.close();
    await profiled?.finish();
  };
  process.once('SIGINT', () => {
    log(`interrupted: stopping the baselines${profiled ? ' and the profiled command service' : ''}`);
    void cleanUp().finally(() => process.exit(130));
  });
  try {
    const naive = await startBaseline('naive CRUD', 'naive-crud.ts', NAIVE_PORT, {
      DATABASE_URL: endpoints.database,
      API_TOKEN: token,
    });
    baselines.push(naive);
    const trivial = await startBaseline('trivial', 'trivial.ts', TRIVIAL_PORT, {});
    baselines.push(trivial);
    if (profile) profiled = await startProfiledCommandService(join(dir, 'profiles', stem));
    const machineInfo = await machine();
    log(`machine: ${describeMachine(machineInfo)}`);
    try {
      sampler = await CpuSampler.open(endpoints.database);
      log(`CPU: /proc/<pid>/stat of each process and backend, ${sampler.ticksPerSecond} clock ticks per second`);
    } catch (error) {
      log(`CPU not measured: ${(error as Error).message}`);
    }
    const cpu: CpuWatch | undefined = sampler && {
      sampler,
      pids: () => ({ ...stackPids(), naive: naive.pid, trivial: trivial.pid }),
      databases: {
        catalog: new URL(endpoints.database).pathname.slice(1),
        ferretdb: new URL(urls.ferretdbBackend).pathname.slice(1),
      },
    };

    const bench = new Bench(
      file,
      mode,
      token,
      {
        ours: baselinesOnly ? {} : { command: endpoints.command, query: endpoints.query },
        naive: { command: naive.url },
        trivial: { command: trivial.url, query: trivial.url },
      },
      cpu,
    );
    if (profiled) {
      bench.notes.push(
        `--profile: the command service ran under node --cpu-prof, whose sampling its CPU figures include; ` +
          `profiles in bench/results/profiles/${stem}/`,
      );
    }
    if (baselinesOnly) {
      bench.notes.push(
        'baselines only (--baselines-only): cqrs-catalog, read-your-writes, lag and rebuild not measured',
      );
      bench.rebuild = { status: 'skipped', detail: '--baselines-only' };
    }
    for (const [index, step] of plan.entries()) {
      log(`step ${index + 1}/${plan.length}: ${step.kind === 'seed' ? `${step.scenario}: seed` : step.title}`);
      try {
        await bench.run(step);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`step failed: ${message}`);
        bench.checks.push({
          name: `step ${'title' in step ? step.title : step.kind} completes`,
          passed: false,
          detail: message,
        });
      }
    }

    if (profiled) {
      const { clean, files } = await profiled.finish();
      if (!clean)
        bench.notes.push(`--profile: the command service did not exit cleanly; ${files.length} profiles written`);
    }

    const report: BenchReport = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mode,
      connections: file.connections,
      machine: machineInfo,
      rows: bench.rows,
      rebuild: bench.rebuild,
      ...(bench.consoleStreams ? { consoleStreams: bench.consoleStreams } : {}),
      checks: bench.checks,
      notes: bench.notes,
      ...(bench.lists ? { lists: bench.lists } : {}),
    };
    mkdirSync(dir, { recursive: true });
    const markdown = renderMarkdown(report);
    const files: Record<string, string> = {
      json: `${JSON.stringify(report, null, 2)}\n`,
      md: markdown,
      svg: renderSvg(report),
    };
    for (const [ext, content] of Object.entries(files)) {
      const path = join(dir, `${stem}.${ext}`);
      writeFileSync(path, content);
      copyFileSync(path, join(dir, `latest${suffix}.${ext}`));
    }
    process.stdout.write(`\n${markdown}\n`);
    log(`wrote bench/results/${stem}.{json,md,svg} and latest${suffix}.{json,md,svg}`);
    const failed = report.checks.filter((c) => !c.passed);
    if (failed.length > 0) log(`${failed.length} check(s) failed: ${failed.map((c) => c.name).join('; ')}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);

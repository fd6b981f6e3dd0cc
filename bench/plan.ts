import { LIST_SCALING_ROUNDS, LIST_SCALING_SIZES, type ListScalingStep } from './list-scaling.ts';
import type { TargetName } from './report.ts';
import {
  type Mix,
  type Mode,
  parseDuration,
  type ScenarioDefinition,
  type ScenarioFile,
  scenario,
  type Thresholds,
} from './scenarios.ts';
import { type Service, serviceOf } from './workloads.ts';

/**
 * Turns loadtest/scenarios.json into the ordered steps of one bench run. Every scenario of the file
 * must have a planner here, so a scenario added to the file without a bench counterpart fails the
 * unit tests instead of silently going unmeasured.
 */

interface Base {
  scenario: string;
  part: string;
  title: string;
  mix: Mix;
  thresholds: Thresholds;
}

/** A lag run's write rate: fixed, or a fraction of the rate the closed-loop run of the same mix measured. */
export type LagPace = { perSecond: number } | { fractionOfMaxWriteRate: number; fallbackPerSecond: number };

export type Step =
  | (Base & {
      kind: 'closed';
      service: Service;
      targets: TargetName[];
      connections: number;
      durationMs: number;
      warmupMs: number;
      /** Address only the first `spread` products (undefined: all known ones). */
      spread?: number;
    })
  | { kind: 'seed'; scenario: string; products: number; targets: TargetName[]; connections: number }
  | (Base & {
      kind: 'hot-throughput';
      targets: TargetName[];
      connections: number;
      durationMs: number;
      warmupMs: number;
      stock: number;
    })
  | (Base & { kind: 'hot-sell-out'; targets: TargetName[]; connections: number; stock: number; attempts: number })
  | (Base & { kind: 'read-your-writes'; vus: number; durationMs: number; spread: number; maxWaitMs: number })
  | (Base & {
      kind: 'lag';
      vus: number;
      durationMs: number;
      spread: number;
      maxWaitMs: number;
      pace: LagPace;
    })
  | { kind: 'rebuild'; scenario: string; part: string; title: string }
  | (Base & {
      kind: 'console-streams';
      /** Open console streams during the second run. */
      streams: number;
      connections: number;
      durationMs: number;
      warmupMs: number;
      spread: number;
    })
  | ListScalingStep;

/** Browsers with the operations console open, as issue #13 asks the service to hold. */
export const CONSOLE_STREAMS = 100;

export interface PlanOptions {
  mode: Mode;
  /** Measure only the naive and trivial baselines (no services needed). */
  baselinesOnly: boolean;
  /** Only the steps of these scenarios (`list-scaling` and `rebuild` included); all when undefined. */
  only?: readonly string[];
}

/** Bench-only steps, with no k6 counterpart, after the scenarios of the file. */
export const BENCH_ONLY_SCENARIOS = ['console-streams', 'list-scaling', 'rebuild'] as const;

const COMMAND_TARGETS: TargetName[] = ['trivial', 'naive', 'ours'];
const QUERY_TARGETS: TargetName[] = ['trivial', 'ours'];

type Planner = (name: string, s: ScenarioDefinition, file: ScenarioFile, o: PlanOptions) => Step[];

function requireField<T>(value: T | undefined, scenarioName: string, field: string): T {
  if (value === undefined) throw new Error(`scenario ${scenarioName} needs "${field}" in loadtest/scenarios.json`);
  return value;
}

function part(name: string, s: ScenarioDefinition, key: string): Mix {
  return requireField(s.parts?.[key], name, `parts.${key}`);
}

function closed(
  name: string,
  s: ScenarioDefinition,
  file: ScenarioFile,
  o: PlanOptions,
  partName: string,
  mix: Mix,
  targets: TargetName[],
  spread?: number,
): Step {
  const service = serviceOf(mix);
  if (!service) throw new Error(`${name}/${partName}: a closed-loop part must use one service`);
  return {
    kind: 'closed',
    scenario: name,
    part: partName,
    title: `${name}: ${partName}`,
    mix,
    thresholds: s.thresholds,
    service,
    targets,
    connections: file.connections,
    durationMs: parseDuration(s.duration[o.mode]),
    warmupMs: parseDuration(file.warmup[o.mode]),
    ...(spread === undefined ? {} : { spread }),
  };
}

/**
 * The products a scenario's reads and writes address, created first when the run has fewer (a
 * scenario run on its own with --only; after catalog-writes there are enough, and it creates none).
 */
const ourProducts = (scenario: string, products: number, file: ScenarioFile): Step => ({
  kind: 'seed',
  scenario,
  products,
  targets: ['ours'],
  connections: file.connections,
});

const planners: Record<string, Planner> = {
  'catalog-writes': (name, s, file, o) => {
    const products = requireField(s.products, name, 'products')[o.mode];
    return [
      closed(name, s, file, o, 'create', part(name, s, 'create'), COMMAND_TARGETS),
      { kind: 'seed', scenario: name, products, targets: ['naive', 'ours'], connections: file.connections },
      closed(name, s, file, o, 'price-change', part(name, s, 'price-change'), COMMAND_TARGETS, products),
      closed(name, s, file, o, 'mixed', s.mix, COMMAND_TARGETS, products),
    ];
  },
  'hot-product': (name, s, file, o) => {
    const stock = requireField(s.initialStock, name, 'initialStock')[o.mode];
    const base = { scenario: name, mix: s.mix, thresholds: s.thresholds };
    return [
      {
        ...base,
        kind: 'hot-throughput',
        part: 'reserve',
        title: `${name}: reserve`,
        targets: COMMAND_TARGETS,
        connections: file.connections,
        durationMs: parseDuration(s.duration[o.mode]),
        warmupMs: parseDuration(file.warmup[o.mode]),
        stock: requireField(s.throughputStock, name, 'throughputStock'),
      },
      {
        ...base,
        kind: 'hot-sell-out',
        part: 'sell-out',
        title: `${name}: sell-out`,
        targets: ['naive', 'ours'],
        connections: file.connections,
        stock,
        attempts: stock * requireField(s.attemptsPerUnit, name, 'attemptsPerUnit'),
      },
    ];
  },
  'read-heavy': (name, s, file, o) => {
    const products = requireField(s.products, name, 'products')[o.mode];
    return [
      ourProducts(name, products, file),
      closed(name, s, file, o, 'get-by-id', part(name, s, 'get-by-id'), QUERY_TARGETS, products),
      closed(name, s, file, o, 'list', part(name, s, 'list'), QUERY_TARGETS),
      {
        kind: 'read-your-writes',
        scenario: name,
        part: 'mixed',
        title: `${name}: mixed`,
        mix: s.mix,
        thresholds: s.thresholds,
        vus: s.vus,
        durationMs: parseDuration(s.duration[o.mode]),
        spread: products,
        maxWaitMs: requireField(s.maxWaitMs, name, 'maxWaitMs'),
      },
    ];
  },
  'read-after-write': (name, s, file, o) => {
    const rate = requireField(s.rate, name, 'rate');
    const products = requireField(s.products, name, 'products')[o.mode];
    const lag = (part: string, title: string, pace: LagPace): Step => ({
      kind: 'lag',
      scenario: name,
      part,
      title: `${name}: ${title}`,
      mix: s.mix,
      thresholds: s.thresholds,
      vus: s.vus,
      durationMs: parseDuration(s.duration[o.mode]),
      spread: products,
      maxWaitMs: requireField(s.maxWaitMs, name, 'maxWaitMs'),
      pace,
    });
    // The file's fixed rate (the k6 script's) and a share of what this machine measured: a lag
    // target is only met when it holds at both.
    return [
      ourProducts(name, products, file),
      lag('lag', `lag at ${rate.perSecond}/s`, { perSecond: rate.perSecond }),
      lag('lag-share', `lag at ${rate.fractionOfMaxWriteRate} x the write rate`, {
        fractionOfMaxWriteRate: rate.fractionOfMaxWriteRate,
        fallbackPerSecond: rate.perSecond,
      }),
    ];
  },
};

/** Steps that involve our services are dropped in baselines-only mode; baselines stay. */
function withoutOurs(step: Step): Step | undefined {
  if (
    step.kind === 'read-your-writes' ||
    step.kind === 'lag' ||
    step.kind === 'rebuild' ||
    step.kind === 'console-streams' ||
    step.kind === 'list-scaling'
  ) {
    return undefined;
  }
  return { ...step, targets: step.targets.filter((t) => t !== 'ours') };
}

export function buildPlan(file: ScenarioFile, options: PlanOptions): Step[] {
  const steps = Object.keys(file.scenarios).flatMap((name) => {
    const planner = planners[name];
    if (!planner) throw new Error(`scenario ${name} in loadtest/scenarios.json has no bench planner (bench/plan.ts)`);
    return planner(name, scenario(file, name), file, options);
  });
  // GET by id without and with open console streams: the streams must not slow reads down.
  if (file.scenarios['read-heavy']) {
    const readHeavy = scenario(file, 'read-heavy');
    steps.push({
      kind: 'console-streams',
      scenario: 'console-streams',
      part: 'get-by-id',
      title: `console streams: get-by-id with 0 and ${CONSOLE_STREAMS} open streams`,
      mix: part('read-heavy', readHeavy, 'get-by-id'),
      thresholds: readHeavy.thresholds,
      streams: CONSOLE_STREAMS,
      connections: file.connections,
      durationMs: parseDuration(readHeavy.duration[options.mode]),
      warmupMs: parseDuration(file.warmup[options.mode]),
      spread: requireField(readHeavy.products, 'read-heavy', 'products')[options.mode],
    });
  }
  // Growing the catalog to 100,000 products takes minutes: a quick run measures lists only when asked.
  // It runs first, so that on a fresh stack its small size is the catalog's first 10,000 products
  // rather than whatever the write scenarios created before it.
  if (options.mode === 'full' || options.only?.includes('list-scaling')) {
    steps.unshift({
      kind: 'list-scaling',
      scenario: 'list-scaling',
      part: 'pages',
      title: 'list-scaling: pages by catalog size',
      sizes: LIST_SCALING_SIZES[options.mode],
      rounds: options.mode === 'quick' ? 1 : LIST_SCALING_ROUNDS,
      connections: file.connections,
      durationMs: options.mode === 'quick' ? 2000 : 8000,
      warmupMs: parseDuration(file.warmup[options.mode]),
    });
  }
  // The rebuild replays everything the scenarios wrote, so it comes last; it has no k6 counterpart.
  steps.push({ kind: 'rebuild', scenario: 'rebuild', part: 'catch-up', title: 'rebuild: catch-up' });
  const known = [...Object.keys(file.scenarios), ...BENCH_ONLY_SCENARIOS];
  const unknown = options.only?.filter((name) => !known.includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: no scenario ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const chosen = options.only ? steps.filter((s) => options.only?.includes(s.scenario)) : steps;
  if (!options.baselinesOnly) return chosen;
  return chosen
    .map(withoutOurs)
    .filter((s): s is Step => s !== undefined && (!('targets' in s) || s.targets.length > 0));
}

/** The scenario names and mixes a plan runs: what the unit test compares with the JSON file. */
export function plannedMixes(steps: Step[]): Record<string, Mix[]> {
  const mixes: Record<string, Mix[]> = {};
  for (const step of steps) {
    if (
      step.kind === 'seed' ||
      step.kind === 'rebuild' ||
      step.kind === 'console-streams' ||
      step.kind === 'list-scaling'
    )
      continue;
    mixes[step.scenario] ??= [];
    mixes[step.scenario]?.push(step.mix);
  }
  return mixes;
}

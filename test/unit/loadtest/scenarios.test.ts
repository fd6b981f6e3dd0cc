import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { buildPlan, plannedMixes, type Step } from '../../../bench/plan.ts';
import {
  loadScenarioFile,
  type Mix,
  parseDuration,
  parseScenarioFile,
  picker,
  SCENARIOS_FILE,
  type ScenarioFile,
} from '../../../bench/scenarios.ts';
import { operations, serviceOf } from '../../../bench/workloads.ts';

/** The Node generator must run exactly the scenarios and mixes of loadtest/scenarios.json. */

const raw = JSON.parse(readFileSync(SCENARIOS_FILE, 'utf8')) as ScenarioFile;
const file = loadScenarioFile();
const full = buildPlan(file, { mode: 'full', baselinesOnly: false });
const quick = buildPlan(file, { mode: 'quick', baselinesOnly: false });

const copy = (): ScenarioFile => JSON.parse(JSON.stringify(raw)) as ScenarioFile;
const sortMixes = (mixes: Mix[]) => [...new Set(mixes.map((m) => JSON.stringify(m)))].sort();

describe('loadtest/scenarios.json', () => {
  test('is read by the generator as written', () => {
    assert.deepEqual(file, raw);
  });

  test('a malformed file is refused with the path of the mistake', () => {
    const zeroWeight = copy();
    (zeroWeight.scenarios['catalog-writes'] as { mix: Mix }).mix.create = 0;
    assert.throws(() => parseScenarioFile(zeroWeight), /scenarios\.catalog-writes\.mix\.create/);
    const unknownField = copy() as ScenarioFile & { scenarios: Record<string, { vu?: number }> };
    (unknownField.scenarios['hot-product'] as { vu?: number }).vu = 3;
    assert.throws(() => parseScenarioFile(unknownField), /vu/);
    const badDuration = copy();
    (badDuration.scenarios['read-heavy'] as { duration: { quick: string } }).duration.quick = '3 seconds';
    assert.throws(() => parseScenarioFile(badDuration), /duration/);
  });

  test('every operation a mix or part names exists in the generator', () => {
    for (const [name, scenario] of Object.entries(file.scenarios)) {
      for (const mix of [scenario.mix, ...Object.values(scenario.parts ?? {})]) {
        for (const op of Object.keys(mix))
          assert.ok(operations[op], `${name} uses ${op}, which bench/workloads.ts lacks`);
      }
    }
  });
});

describe('the bench plan', () => {
  test('runs every scenario of the file, and only those', () => {
    assert.deepEqual(Object.keys(plannedMixes(full)).sort(), Object.keys(file.scenarios).sort());
  });

  test("runs each scenario's mix and each of its parts, with the file's weights", () => {
    const planned = plannedMixes(full);
    for (const [name, scenario] of Object.entries(file.scenarios)) {
      const expected = [scenario.mix, ...Object.values(scenario.parts ?? {})];
      assert.deepEqual(sortMixes(planned[name] ?? []), sortMixes(expected), name);
    }
  });

  test("uses the file's durations and connections", () => {
    for (const [plan, mode] of [
      [full, 'full'],
      [quick, 'quick'],
    ] as const) {
      for (const step of plan) {
        if (step.kind !== 'closed' && step.kind !== 'hot-throughput') continue;
        const scenario = file.scenarios[step.scenario];
        assert.ok(scenario);
        assert.equal(step.durationMs, parseDuration(scenario.duration[mode]), `${step.title} ${mode}`);
        assert.equal(step.warmupMs, parseDuration(file.warmup[mode]));
        assert.equal(step.connections, file.connections);
      }
    }
  });

  test('measures the command path beside both baselines and the query path beside the trivial one', () => {
    const targetsOf = (title: string) =>
      (full.find((s) => 'title' in s && s.title === title) as { targets: string[] }).targets;
    for (const title of ['catalog-writes: create', 'catalog-writes: price-change', 'hot-product: reserve']) {
      assert.deepEqual([...targetsOf(title)].sort(), ['naive', 'ours', 'trivial'], title);
    }
    for (const title of ['read-heavy: get-by-id', 'read-heavy: list']) {
      assert.deepEqual([...targetsOf(title)].sort(), ['ours', 'trivial'], title);
    }
  });

  test('spreads price changes over the full-size product count', () => {
    const step = full.find((s) => s.kind === 'closed' && s.part === 'price-change') as Step & { kind: 'closed' };
    assert.equal(step.spread, file.scenarios['catalog-writes']?.products?.full);
    assert.equal(step.spread, 10_000);
    assert.equal(serviceOf(step.mix), 'command');
  });

  test("measures the lag at the file's fixed rate and at a share of the measured write rate", () => {
    const rate = file.scenarios['read-after-write']?.rate;
    assert.ok(rate);
    const paces = full.filter((s) => s.kind === 'lag').map((s) => (s as Step & { kind: 'lag' }).pace);
    assert.deepEqual(paces, [
      { perSecond: rate.perSecond },
      { fractionOfMaxWriteRate: rate.fractionOfMaxWriteRate, fallbackPerSecond: rate.perSecond },
    ]);
    assert.equal(rate.perSecond, 200, 'the rate issue #11 sets its lag target at');
  });

  test('the quick plan leaves time for seeding and the rebuild inside two minutes', () => {
    const seconds = quick.reduce((sum, step) => {
      if (step.kind === 'closed' || step.kind === 'hot-throughput') {
        return sum + ((step.warmupMs + step.durationMs) * step.targets.length) / 1000;
      }
      if (step.kind === 'read-your-writes' || step.kind === 'lag') return sum + step.durationMs / 1000;
      return sum;
    }, 0);
    assert.ok(seconds <= 65, `the quick plan's timed runs take ${seconds} s`);
  });

  test('a scenario without a planner is refused', () => {
    const extra = copy();
    extra.scenarios.soak = { ...(extra.scenarios['read-heavy'] as ScenarioFile['scenarios'][string]) };
    assert.throws(() => buildPlan(parseScenarioFile(extra), { mode: 'quick', baselinesOnly: false }), /soak/);
  });

  test('the full plan first grows the catalog from 10,000 to 100,000 products for the list pages, in rounds; a quick one only when asked', () => {
    const [lists] = full;
    assert.equal(lists?.kind, 'list-scaling', 'lists come first, before the write scenarios grow the catalog');
    assert.deepEqual(lists?.kind === 'list-scaling' ? lists.sizes : undefined, [10_000, 100_000]);
    assert.equal(lists?.kind === 'list-scaling' ? lists.rounds : undefined, 2);
    assert.equal(
      quick.some((s) => s.kind === 'list-scaling'),
      false,
    );
    const only = buildPlan(file, { mode: 'quick', baselinesOnly: false, only: ['list-scaling'] });
    assert.deepEqual(
      only.map((s) => s.kind),
      ['list-scaling'],
    );
  });

  test('read scenarios run on their own first create the products they address, on our side only', () => {
    for (const name of ['read-heavy', 'read-after-write']) {
      const [first] = buildPlan(file, { mode: 'quick', baselinesOnly: false, only: [name] });
      assert.deepEqual(first, {
        kind: 'seed',
        scenario: name,
        products: file.scenarios[name]?.products?.quick,
        targets: ['ours'],
        connections: file.connections,
      });
    }
  });

  test('--only keeps the named scenarios and refuses unknown names', () => {
    const plan = buildPlan(file, { mode: 'full', baselinesOnly: false, only: ['hot-product', 'rebuild'] });
    assert.deepEqual(new Set(plan.map((s) => s.scenario)), new Set(['hot-product', 'rebuild']));
    assert.throws(() => buildPlan(file, { mode: 'full', baselinesOnly: false, only: ['lists'] }), /lists/);
  });

  test('baselines-only drops every measurement of our services', () => {
    const plan = buildPlan(file, { mode: 'full', baselinesOnly: true });
    assert.ok(plan.length > 0);
    for (const step of plan) {
      assert.ok(!['read-your-writes', 'lag', 'rebuild', 'list-scaling'].includes(step.kind), step.kind);
      if ('targets' in step) assert.ok(!step.targets.includes('ours'));
    }
  });
});

describe('picker', () => {
  test('follows the weights', () => {
    let i = 0;
    const tickets = [0, 0.09, 0.1, 0.79, 0.8, 0.99];
    const pick = picker({ create: 10, changePrice: 70, updateDetails: 20 }, () => tickets[i++] as number);
    assert.deepEqual(
      tickets.map(() => pick()),
      ['create', 'create', 'changePrice', 'changePrice', 'updateDetails', 'updateDetails'],
    );
  });

  test('refuses an empty mix', () => {
    assert.throws(() => picker({}), /positive weight/);
  });
});

test('parseDuration reads k6 durations', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('3s'), 3000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.throws(() => parseDuration('1h30m'), /not a duration/);
});

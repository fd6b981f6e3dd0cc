import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BenchReport,
  type CpuUsage,
  cpuRatio,
  type Measurement,
  measurementOf,
  type Row,
  renderMarkdown,
  renderSvg,
  resultStem,
  TARGET_LABELS,
  TARGETS,
  type TargetName,
  verdict,
  wrapText,
} from '../../../bench/report.ts';

const m = (target: TargetName, throughput: number, p99: number, errors = 0): Measurement => ({
  target,
  requests: Math.round(throughput * 10),
  seconds: 10,
  throughput,
  latencyMs: { p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2 },
  errors,
  outcomes: errors > 0 ? { ok: throughput * 10 - errors, 'status 500': errors } : { ok: throughput * 10 },
});

const row = (scenario: string, part: string, measurements: Measurement[], extra: Partial<Row> = {}): Row => ({
  id: `${scenario}/${part}`,
  scenario,
  part,
  path: 'command',
  title: `${scenario}: ${part}`,
  latencyKind: 'request',
  thresholds: { p99Ms: 50, errorRate: 0.01 },
  measurements,
  notes: [],
  ...extra,
});

const sample = (): BenchReport => ({
  startedAt: '2025-06-01T14:03:22.000Z',
  finishedAt: '2025-06-01T14:09:40.000Z',
  mode: 'full',
  connections: 64,
  machine: {
    cpus: 2,
    cpuModel: 'AMD EPYC',
    memoryGiB: 24,
    os: 'Linux 6.1',
    node: 'v20.19.0',
    postgres: '15.8',
    kafka: '4.1.0',
    mongo: 'FerretDB v1.24.2 (wire 7.0.42)',
  },
  rows: [
    row('catalog-writes', 'create', [m('ours', 2100, 31), m('naive', 640, 180), m('trivial', 6200, 18)]),
    row('catalog-writes', 'price-change', [m('ours', 2600, 42), m('naive', 700, 150), m('trivial', 6100, 19)]),
    row('catalog-writes', 'mixed', [m('ours', 2400, 60), m('naive', 650, 170), m('trivial', 6000, 20)]),
    row('hot-product', 'reserve', [m('ours', 3100, 35), m('naive', 480, 240), m('trivial', 6300, 17)]),
    row('read-heavy', 'get-by-id', [m('ours', 3300, 40), m('trivial', 6400, 16)], { path: 'query' }),
    row('read-heavy', 'list', [m('ours', 900, 140, 12), m('trivial', 6400, 16)], { path: 'query' }),
    row('read-heavy', 'mixed', [m('ours', 1500, 90)], { path: 'query', notes: ['cqrs-catalog only'] }),
    row('read-after-write', 'lag', [m('ours', 1300, 120)], {
      path: 'end-to-end',
      latencyKind: 'lag',
      thresholds: { p99Ms: 250, errorRate: 0.01 },
    }),
  ],
  rebuild: { status: 'not available', detail: 'package.json has no "rebuild" script yet' },
  checks: [
    { name: 'hot-product / cqrs-catalog: sells exactly its stock', passed: true, detail: '900 attempts' },
    { name: 'hot-product / naive: no oversell', passed: false, detail: 'duplicate stock 41' },
  ],
  notes: ['a note'],
});

describe('renderMarkdown', () => {
  const report = sample();
  const markdown = renderMarkdown(report);
  const summary = markdown.split('## Details')[0] ?? '';

  test('has one summary line per scenario part, ours beside each baseline', () => {
    for (const r of report.rows) {
      const line = summary.split('\n').find((l) => l.startsWith(`| ${r.title} |`));
      assert.ok(line, `no summary line for ${r.title}`);
      assert.equal(line.split('|').length - 2, 11, line);
    }
    assert.match(
      summary,
      /\| ours req\/s \| naive req\/s \| trivial req\/s \| ours p99 \| naive p99 \| trivial p99 \|/,
    );
  });

  test('shows the figures and the ratios', () => {
    assert.match(
      summary,
      /\| catalog-writes: price-change \| command \| 2,600 \| 700 \| 6,100 \| 42\.0 \| 150 \| 19\.0 \| 3\.7x \| 43 % \|/,
    );
    assert.match(
      summary,
      /\| read-heavy: get-by-id \| query \| 3,300 \| - \| 6,400 \| 40\.0 \| - \| 16\.0 \| - \| 52 % \|/,
    );
  });

  test('lists every measurement of every baseline in the details', () => {
    const details = markdown.split('## Details')[1] ?? '';
    for (const r of report.rows) {
      for (const measured of r.measurements) {
        assert.ok(
          details.includes(`| ${r.title} | ${TARGET_LABELS[measured.target]} |`),
          `${r.title} ${measured.target}`,
        );
      }
    }
    assert.match(details, /status 500: 12/);
  });

  test('applies the thresholds to our figures', () => {
    assert.match(summary, /\| catalog-writes: create .*p99 < 50 ms, errors <= 1 %: pass \|/);
    assert.match(summary, /\| catalog-writes: mixed .*: FAIL \|/);
    assert.match(summary, /\| read-after-write: lag .*lag p99 < 250 ms.*: pass \|/);
  });

  test('states the machine, the rebuild, the checks and the notes', () => {
    assert.match(markdown, /2 x AMD EPYC, 24 GiB, Linux 6\.1; Node v20\.19\.0, PostgreSQL 15\.8, Kafka 4\.1\.0/);
    assert.match(markdown, /Rebuild catch-up: not available: package\.json has no "rebuild" script yet/);
    assert.match(markdown, /- PASS hot-product \/ cqrs-catalog: sells exactly its stock/);
    assert.match(markdown, /- FAIL hot-product \/ naive: no oversell: duplicate stock 41/);
    assert.match(markdown, /- read-heavy: mixed: cqrs-catalog only/);
  });

  test('renders a measured rebuild as events per second', () => {
    const measured = sample();
    measured.rebuild = {
      status: 'measured',
      seconds: 12.5,
      events: 100_000,
      eventsPerSecond: 8000,
      detail: 'wall time',
    };
    assert.match(renderMarkdown(measured), /Rebuild catch-up: 8,000 events\/s \(100,000 events in 12\.5 s\)/);
  });
});

describe('renderSvg', () => {
  const report = sample();
  const svg = renderSvg(report);

  test('is one SVG document', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    assert.equal(svg.trim().endsWith('</svg>'), true);
    assert.equal((svg.match(/<svg /g) ?? []).length, 1);
  });

  test('labels every scenario part and every baseline', () => {
    for (const r of report.rows) assert.ok(svg.includes(`text-anchor="end">${r.title}</text>`), r.title);
    for (const target of TARGETS) assert.ok(svg.includes(`>${TARGET_LABELS[target]}<`), target);
  });

  test('draws a throughput bar and a p99 bar for every measurement, coloured by target', () => {
    for (const target of TARGETS) {
      const measured = report.rows.filter((r) => measurementOf(r, target)).length;
      const bars = (svg.match(new RegExp(`data-target="${target}"`, 'g')) ?? []).length;
      assert.equal(bars, measured * 2, target);
    }
  });

  test('bar length is proportional to the value', () => {
    const bars = [...svg.matchAll(/<rect x="(\d+(?:\.\d+)?)" y="\d+" width="(\d+(?:\.\d+)?)"[^>]*data-target/g)];
    const throughputWidths = bars.filter((b) => b[1] === bars[0]?.[1]).map((b) => Number(b[2]));
    const values = report.rows.flatMap((r) =>
      TARGETS.flatMap((t) => {
        const measured = measurementOf(r, t);
        return measured ? [measured.throughput] : [];
      }),
    );
    assert.equal(throughputWidths.length, values.length);
    const scale = (throughputWidths[0] as number) / (values[0] as number);
    throughputWidths.forEach((width, i) => {
      assert.ok(Math.abs(width - (values[i] as number) * scale) < 0.2, `bar ${i}: ${width} for ${values[i]}`);
    });
  });

  test('escapes text', () => {
    const tricky = sample();
    tricky.rows = [row('a<b>&"c"', 'part', [m('ours', 10, 1)])];
    const out = renderSvg(tricky);
    assert.ok(out.includes('a&lt;b&gt;&amp;&quot;c&quot;: part'));
    assert.ok(!out.includes('a<b>'));
  });

  test('says when a row has no measurement', () => {
    const empty = sample();
    empty.rows = [row('x', 'y', [])];
    assert.match(renderSvg(empty), /not measured/);
  });

  test('states the rebuild and the checks', () => {
    assert.match(svg, /Rebuild catch-up: not available/);
    assert.match(svg, /Checks: 1 of 2 passed/);
  });
});

test('verdict needs our measurement', () => {
  assert.equal(verdict(row('x', 'y', [m('naive', 10, 1)])), undefined);
  assert.deepEqual(verdict(row('x', 'y', [m('ours', 100, 49)])), {
    passed: true,
    text: 'p99 < 50 ms, errors <= 1 %: pass',
  });
  assert.equal(verdict(row('x', 'y', [m('ours', 100, 10, 20)]))?.passed, false);
});

test('wrapText breaks at spaces within the width', () => {
  assert.deepEqual(wrapText('aa bb cc dd', 5), ['aa bb', 'cc dd']);
  assert.deepEqual(wrapText('a-very-long-word x', 4), ['a-very-long-word', 'x']);
});

test('resultStem is sortable and file-name safe', () => {
  assert.equal(resultStem(new Date('2025-06-01T14:03:22.456Z')), '2025-06-01T14-03-22Z');
});

/** CPU of one measurement: [name, own, ms per request, catch-up ms per request] per process. */
const cpu = (processes: [string, boolean, number, number?][], requests = 1000): CpuUsage => {
  const total = (own: boolean | undefined) =>
    processes.filter(([, o]) => own === undefined || o === own).reduce((sum, [, , ms, up]) => sum + ms + (up ?? 0), 0);
  return {
    seconds: 10,
    ...(processes.some(([, , , up]) => up !== undefined) ? { catchUpSeconds: 2 } : {}),
    requests,
    ownMsPerRequest: total(true),
    pipelineMsPerRequest: total(undefined),
    processes: processes.map(([name, own, ms, up]) => ({
      name,
      own,
      processes: 1,
      ms: ms * requests,
      msPerRequest: ms,
      ...(up === undefined ? {} : { catchUpMs: up * requests, catchUpMsPerRequest: up }),
    })),
  };
};

const withCpu = (measured: Measurement, usage: CpuUsage): Measurement => ({ ...measured, cpu: usage });

const cpuSample = (): BenchReport => {
  const report = sample();
  const ours = (a: number, b: number) =>
    cpu([
      ['command service', true, a, 0.01],
      ['command backends', true, b, 0],
      ['kafka-1', false, 0.4, 0.2],
      ['FerretDB', false, 0.1, 0.05],
    ]);
  const naive = cpu([
    ['naive service', true, 0.3],
    ['naive backends', true, 0.5],
  ]);
  report.rows = [
    row('catalog-writes', 'create', [
      withCpu(m('ours', 2100, 31), ours(0.25, 0.1)),
      withCpu(m('naive', 640, 180), naive),
      withCpu(m('trivial', 6200, 18), cpu([['trivial service', true, 0.05]])),
    ]),
    row('catalog-writes', 'price-change', [
      withCpu(m('ours', 2600, 42), ours(0.9, 0.6)),
      withCpu(m('naive', 700, 150), naive),
    ]),
    row('read-heavy', 'get-by-id', [withCpu(m('ours', 3300, 40), cpu([['query service', true, 0.2]]))], {
      path: 'query',
    }),
    row('read-heavy', 'list', [m('ours', 900, 140)], { path: 'query' }),
  ];
  return report;
};

describe('CPU per request', () => {
  const report = cpuSample();
  const markdown = renderMarkdown(report);
  const section = markdown.split('\n## CPU per request\n')[1]?.split('## Checks')[0] ?? '';
  const [summary = '', byProcess = ''] = section.split('### CPU per request by process');

  test('cpuRatio divides ours by naive, service plus backends each', () => {
    const [create, priceChange, getById] = report.rows;
    assert.ok(Math.abs((cpuRatio(create as Row) ?? 0) - 0.36 / 0.8) < 1e-9);
    assert.ok(Math.abs((cpuRatio(priceChange as Row) ?? 0) - 1.51 / 0.8) < 1e-9);
    assert.equal(cpuRatio(getById as Row), undefined);
  });

  test('sums each target, gives the ratio and judges the write-path target', () => {
    assert.match(
      summary,
      /\| catalog-writes: create \| command \| 0\.360 \| 0\.800 \| 0\.45 \| <= 0\.5: pass \| 0\.050 \| 1\.11 \|/,
    );
    assert.match(
      summary,
      /\| catalog-writes: price-change \| command \| 1\.51 \| 0\.800 \| 1\.89 \| <= 0\.5: FAIL \| - \| 2\.26 \|/,
    );
    assert.match(summary, /\| read-heavy: get-by-id \| query \| 0\.200 \| - \| - \| - \| - \| 0\.200 \|/);
  });

  test('leaves out the rows that have no CPU figures', () => {
    assert.ok(!section.includes('read-heavy: list'), section);
  });

  test('breaks each measurement down by process, ours first, own ones starred, catch-up after a +', () => {
    assert.match(
      byProcess,
      /\| scenario \| target \| s \| command service \| command backends \| kafka-1 \| FerretDB \| query service \| naive service \| naive backends \| trivial service \|/,
    );
    assert.match(
      byProcess,
      /\| catalog-writes: create \| cqrs-catalog \| 10\.0 \+2\.0 \| 0\.250 \+0\.010\* \| 0\.100\* \| 0\.400 \+0\.200 \| 0\.100 \+0\.050 \| - \| - \| - \| - \|/,
    );
    assert.match(
      byProcess,
      /\| catalog-writes: create \| naive CRUD \(SELECT \.\.\. FOR UPDATE\) \| 10\.0 \| - \| - \| - \| - \| - \| 0\.300\* \| 0\.500\* \| - \|/,
    );
  });

  test('is absent when no measurement has CPU figures', () => {
    assert.ok(!renderMarkdown(sample()).includes('CPU per request'));
  });

  const svg = renderSvg(report);
  const cpuBars = [...svg.matchAll(/<rect x="[\d.]+" y="\d+" width="([\d.]+)"[^>]*data-cpu="([\w-]+)"/g)];

  test('draws a CPU bar per target of each write, and our whole pipeline beside ours', () => {
    const keys = cpuBars.map((bar) => bar[2]);
    assert.deepEqual(keys, ['ours', 'ours-pipeline', 'naive', 'trivial', 'ours', 'ours-pipeline', 'naive']);
    assert.ok(!svg.includes('read-heavy: get-by-id, cqrs-catalog, service + backends'), 'reads stay in the table');
  });

  test('CPU bar length is proportional to the value', () => {
    const values = [0.36, 1.11, 0.8, 0.05, 1.51, 2.26, 0.8];
    const scale = Number(cpuBars[0]?.[1]) / 0.36;
    cpuBars.forEach((bar, i) => {
      const expected = Math.max(1, (values[i] as number) * scale);
      assert.ok(Math.abs(Number(bar[1]) - expected) < 0.2, `bar ${i}: ${bar[1]} for ${values[i]}`);
    });
  });

  test('states the ratio to naive beside the bars', () => {
    assert.match(svg, /ours \/ naive 0\.45</);
    assert.match(svg, /ours \/ naive 1\.89</);
    assert.equal((svg.match(/ours \/ naive /g) ?? []).length, 2);
  });

  test('draws no CPU block without CPU figures', () => {
    assert.ok(!renderSvg(sample()).includes('data-cpu'));
  });
});

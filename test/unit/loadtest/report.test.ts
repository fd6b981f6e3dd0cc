import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BenchReport,
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

import type { EngineCost } from './list-engine.ts';
import type { Measurement } from './report.ts';

/** The list-scaling step's figures (list-scaling.ts) and issue #14's targets, judged and rendered. */

export const LIST_TARGETS = { p99Ms: 100, shareOfGetById: 0.25, growth: 2 };

export interface ListScalingSize {
  products: number;
  seededSeconds: number;
  getById: Measurement;
  trivial?: Measurement;
  lists: { label: string; query: string; measurement: Measurement }[];
}

export interface ListScalingResult {
  sizes: ListScalingSize[];
  /** The list engine's own cost per page at each size, in the bench's process (list-engine.ts). */
  engine?: EngineCost[];
  notes: string[];
}

/** Each query's engine cost at the largest size over its cost at the smallest. */
const engineGrowths = (engine: EngineCost[]): number[] =>
  engine.map(({ sizes }) => (sizes.at(-1)?.micros ?? 0) / Math.max(1e-9, sizes[0]?.micros ?? 0));

/** The service's own CPU time per answer (the query service for ours), read from /proc. */
const cpuOf = (m: Measurement) => (m.cpu ? m.cpu.ownMsPerRequest.toFixed(3) : '-');

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined) => (n === undefined ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1));

/** The targets, each met or not, from one run's figures. */
export function listTargets(result: ListScalingResult): { name: string; passed: boolean; detail: string }[] {
  const targets: { name: string; passed: boolean; detail: string }[] = [];
  for (const size of result.sizes) {
    const worstP99 = Math.max(...size.lists.map((l) => l.measurement.latencyMs?.p99 ?? Number.POSITIVE_INFINITY));
    targets.push({
      name: `list p99 <= ${LIST_TARGETS.p99Ms} ms at ${fmt(size.products)} products`,
      passed: worstP99 <= LIST_TARGETS.p99Ms,
      detail: `worst list p99 ${ms(worstP99)} ms`,
    });
    const worstShare = Math.min(...size.lists.map((l) => l.measurement.throughput / size.getById.throughput));
    targets.push({
      name: `list throughput >= ${LIST_TARGETS.shareOfGetById * 100} % of GET by id at ${fmt(size.products)} products`,
      passed: worstShare >= LIST_TARGETS.shareOfGetById,
      detail: `lowest ${Math.round(worstShare * 100)} % (GET by id ${fmt(size.getById.throughput)}/s)`,
    });
  }
  for (const size of result.sizes) {
    const byIdCpu = size.getById.cpu?.ownMsPerRequest;
    const cpus = size.lists.map((l) => l.measurement.cpu?.ownMsPerRequest);
    if (!byIdCpu || cpus.some((c) => c === undefined)) continue;
    const worst = Math.max(...(cpus as number[]));
    targets.push({
      name: `the same in CPU time: a list page costs the query service at most ${1 / LIST_TARGETS.shareOfGetById}x a GET by id at ${fmt(size.products)} products`,
      passed: worst <= byIdCpu / LIST_TARGETS.shareOfGetById,
      detail: `worst ${worst.toFixed(3)} ms per page against ${byIdCpu.toFixed(3)} ms per GET by id (${(worst / byIdCpu).toFixed(1)}x)`,
    });
  }
  const [small, large] = result.sizes;
  if (small && large) {
    const cpuGrowths = large.lists.map((l, i) => {
      const before = small.lists[i]?.measurement.cpu?.ownMsPerRequest;
      const after = l.measurement.cpu?.ownMsPerRequest;
      return before && after ? after / before : undefined;
    });
    if (cpuGrowths.every((g) => g !== undefined)) {
      const worst = Math.max(...(cpuGrowths as number[]));
      targets.push({
        name: `the same in CPU time: a page at ${fmt(large.products)} products costs the query service at most ${LIST_TARGETS.growth}x its CPU at ${fmt(small.products)}`,
        passed: worst <= LIST_TARGETS.growth,
        detail: `worst ${worst.toFixed(2)}x`,
      });
    }
    const growths = large.lists.map((l, i) => {
      const before = small.lists[i]?.measurement.throughput ?? 0;
      return before / Math.max(1e-9, l.measurement.throughput);
    });
    const worst = Math.max(...growths);
    targets.push({
      name: `a page at ${fmt(large.products)} products costs at most ${LIST_TARGETS.growth}x its time at ${fmt(small.products)}`,
      passed: worst <= LIST_TARGETS.growth,
      detail: `worst ${worst.toFixed(2)}x (time per page = 1 / throughput at ${64} connections)`,
    });
    if (small.trivial && large.trivial) {
      // The two sizes are measured minutes apart on a shared machine: the trivial endpoint, whose work
      // does not depend on the catalog, shows how much slower the machine itself got in between.
      const drift = small.trivial.throughput / Math.max(1e-9, large.trivial.throughput);
      const corrected = Math.max(...growths.map((g) => g / drift));
      targets.push({
        name: `the same, each size's time per page relative to the trivial endpoint measured beside it`,
        passed: corrected <= LIST_TARGETS.growth,
        detail: `worst ${corrected.toFixed(2)}x (the trivial endpoint took ${drift.toFixed(2)}x its time at ${fmt(large.products)} products)`,
      });
    }
  }
  const engine = result.engine;
  const [first] = engine ?? [];
  if (engine && first && first.sizes.length > 1) {
    const worst = Math.max(...engineGrowths(engine));
    const [small, large] = [first.sizes[0], first.sizes.at(-1)].map((s) => fmt(s?.products ?? 0));
    targets.push({
      name: `the same, the list engine's own work per page (walk, views, JSON; in one process, the sizes measured in turn) at ${large} products at most ${LIST_TARGETS.growth}x its work at ${small}`,
      passed: worst <= LIST_TARGETS.growth,
      detail: `worst ${worst.toFixed(2)}x`,
    });
  }
  return targets;
}

/** The engine's cost per page by size, in microseconds, with the page's length. */
function renderEngine(engine: EngineCost[]): string[] {
  const [first] = engine;
  if (!first) return [];
  const sizes = first.sizes.map((s) => fmt(s.products));
  const growth = first.sizes.length > 1;
  const growths = engineGrowths(engine);
  return [
    '',
    "The list engine's own work per page, in the bench's process (no HTTP): the index walk, the views and the JSON body, on generated catalogs like the seeded one, the sizes measured in turn, best of rounds.",
    '',
    `| query | ${sizes.map((s) => `${s}: us/page | items`).join(' | ')} |${growth ? ' large / small |' : ''}`,
    `|---|${first.sizes.map(() => '--:|--:').join('|')}|${growth ? '--:|' : ''}`,
    ...engine.map(
      (cost, i) =>
        `| list ${cost.label} | ${cost.sizes.map((s) => `${s.micros.toFixed(1)} | ${s.items}`).join(' | ')} |${growth ? ` ${(growths[i] ?? 0).toFixed(2)}x |` : ''}`,
    ),
  ];
}

export function renderListScaling(result: ListScalingResult): string[] {
  const [small, large] = result.sizes;
  if (!small) return [];
  const lines = ['', '## List pages by catalog size', ''];
  const sizes = result.sizes.map((s) => `${fmt(s.products)} products`);
  lines.push(
    `| query | ${sizes.map((s) => `${s}: pages/s | p50 | p99 | / GET by id | CPU ms/page`).join(' | ')} |${large ? ' time per page, large / small | CPU per page, large / small |' : ''}`,
    `|---|${result.sizes.map(() => '--:|--:|--:|--:|--:').join('|')}|${large ? '--:|--:|' : ''}`,
  );
  const cells = (m: Measurement, byId: Measurement) =>
    `${fmt(m.throughput)} | ${ms(m.latencyMs?.p50)} | ${ms(m.latencyMs?.p99)} | ${Math.round((m.throughput / byId.throughput) * 100)} % | ${cpuOf(m)}`;
  for (const [i, { label }] of small.lists.entries()) {
    const perSize = result.sizes.map((s) => cells((s.lists[i] as { measurement: Measurement }).measurement, s.getById));
    const smallCpu = small.lists[i]?.measurement.cpu?.ownMsPerRequest;
    const largeCpu = large?.lists[i]?.measurement.cpu?.ownMsPerRequest;
    const cpuGrowth = smallCpu && largeCpu ? `${(largeCpu / smallCpu).toFixed(2)}x` : '-';
    const growth = large
      ? ` ${((small.lists[i]?.measurement.throughput ?? 0) / Math.max(1e-9, large.lists[i]?.measurement.throughput ?? 0)).toFixed(2)}x | ${cpuGrowth} |`
      : '';
    lines.push(`| list ${label} | ${perSize.join(' | ')} |${growth}`);
  }
  lines.push(
    `| GET by id | ${result.sizes.map((s) => cells(s.getById, s.getById)).join(' | ')} |${large ? ' - |' : ''}`,
  );
  if (result.sizes.every((s) => s.trivial)) {
    lines.push(
      `| trivial endpoint | ${result.sizes.map((s) => cells(s.trivial as Measurement, s.getById)).join(' | ')} |${large ? ' - | - |' : ''}`,
    );
  }
  if (result.engine) lines.push(...renderEngine(result.engine));
  lines.push('', 'Targets (issue #14):', '');
  for (const t of listTargets(result)) lines.push(`- ${t.passed ? 'met' : 'NOT met'}: ${t.name}: ${t.detail}`);
  if (result.notes.length > 0) lines.push('', ...result.notes.map((n) => `- ${n}`));
  return lines;
}

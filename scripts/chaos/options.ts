import { parseArgs } from 'node:util';

/** The faults `npm run chaos` injects, one at a time, in this order. */
export const FAULTS = [
  'command-kill',
  'query-kill',
  'kafka-kill',
  'pg-terminate',
  'pg-restart',
  'ferretdb-restart',
] as const;

export type FaultName = (typeof FAULTS)[number];

export const FAULT_TITLES: Record<FaultName, string> = {
  'command-kill': 'SIGKILL command service',
  'query-kill': 'SIGKILL query service',
  'kafka-kill': 'SIGKILL one Kafka broker',
  'pg-terminate': 'terminate PostgreSQL connections',
  'pg-restart': 'restart PostgreSQL',
  'ferretdb-restart': 'restart FerretDB',
};

export interface Phases {
  /** Load before the fault. */
  warmMs: number;
  /** How long a killed or stopped part stays down before it is started again. */
  downMs: number;
  /** Load after both services are ready again, before the checks. */
  afterMs: number;
}

export interface ChaosOptions {
  rounds: number;
  quick: boolean;
  faults: FaultName[];
  /** True when `--only` narrowed the faults: such a run does not replace `latest.*`. */
  partial: boolean;
  phases: Phases;
  /** Concurrent writers and their pause after each answer: a steady load, not a saturating one. */
  concurrency: number;
  /** Concurrent readers of the query service, with the same pause. */
  readers: number;
  pauseMs: number;
  requestTimeoutMs: number;
  /** Bound on fault to "both services ready again"; a round over it failed to recover. */
  recoveryTimeoutMs: number;
  /** Bound on resending unanswered writes (same Idempotency-Key) until each gets an answer. */
  retryTimeoutMs: number;
  /** Bound on reading the topic until every committed event arrived. */
  topicTimeoutMs: number;
  /** `npm run verify -- --wait-ms N`. */
  verifyWaitMs: number;
  /** Write chaos/results/ (off with --no-save). */
  save: boolean;
}

export const USAGE = `usage: npm run chaos -- [--rounds N] [--quick] [--only fault,...] [--concurrency N] [--readers N] [--pause-ms N] [--no-save]
faults: ${FAULTS.join(', ')}`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(name: string, raw: string | undefined, fallback: number, lo: number, hi: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < lo || value > hi) {
    throw new UsageError(`--${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Parses `npm run chaos` arguments; throws a UsageError naming the mistake. */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rounds: { type: 'string' },
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        concurrency: { type: 'string' },
        readers: { type: 'string' },
        'pause-ms': { type: 'string' },
        'no-save': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const quick = values.quick === true;
  const rounds = integer('rounds', values.rounds as string | undefined, quick ? 1 : 3, 1, 20);
  let faults: FaultName[] = [...FAULTS];
  let partial = false;
  if (values.only !== undefined) {
    const names = String(values.only)
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n.length > 0);
    const unknown = names.filter((n) => !(FAULTS as readonly string[]).includes(n));
    if (names.length === 0 || unknown.length > 0) {
      throw new UsageError(
        `--only: unknown fault(s) ${unknown.join(', ') || '(none given)'}; known: ${FAULTS.join(', ')}`,
      );
    }
    // The run's own order, each once, whatever order they were given in.
    faults = FAULTS.filter((f) => names.includes(f));
    partial = faults.length < FAULTS.length;
  }
  return {
    rounds,
    quick,
    faults,
    partial,
    phases: quick ? { warmMs: 2_000, downMs: 1_500, afterMs: 2_000 } : { warmMs: 5_000, downMs: 3_000, afterMs: 5_000 },
    concurrency: integer('concurrency', values.concurrency as string | undefined, 4, 1, 64),
    readers: integer('readers', values.readers as string | undefined, 2, 0, 64),
    pauseMs: integer('pause-ms', values['pause-ms'] as string | undefined, 50, 0, 10_000),
    requestTimeoutMs: 10_000,
    recoveryTimeoutMs: 120_000,
    retryTimeoutMs: 60_000,
    topicTimeoutMs: 60_000,
    verifyWaitMs: 60_000,
    save: values['no-save'] !== true,
  };
}

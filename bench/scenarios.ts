import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  array,
  type Infer,
  integer,
  min,
  nonempty,
  number,
  object,
  optional,
  pattern,
  record,
  refine,
  size,
  string,
  validate,
} from 'superstruct';

/**
 * Loads loadtest/scenarios.json, the definition the k6 scripts read too. Validated strictly so that
 * a typo in the shared file stops the bench at once instead of silently running another workload.
 */

export const SCENARIOS_FILE = resolve(import.meta.dirname, '..', 'loadtest', 'scenarios.json');

export type Mode = 'full' | 'quick';

const positive = min(integer(), 1);
const duration = pattern(string(), /^\d+(ms|s|m)$/);
const sizedDuration = object({ full: duration, quick: duration });
const sizedCount = object({ full: positive, quick: positive });
const mix = refine(
  record(nonempty(string()), positive),
  'mix',
  (value) => Object.keys(value).length > 0 || 'empty mix',
);
const money = object({ min: positive, max: positive, currency: pattern(string(), /^[A-Z]{3}$/) });

const PayloadsStruct = object({
  create: object({
    skuPrefix: nonempty(string()),
    name: nonempty(string()),
    description: string(),
    price: money,
    initialStock: min(integer(), 0),
  }),
  changePrice: money,
  updateDetails: object({ namePrefix: nonempty(string()), descriptionLength: min(integer(), 0) }),
  reserve: object({ quantity: positive }),
  list: object({ queries: size(array(nonempty(string())), 1, 100) }),
});

const ThresholdsStruct = object({ p99Ms: positive, errorRate: number() });

const ScenarioStruct = object({
  description: nonempty(string()),
  vus: positive,
  duration: sizedDuration,
  mix,
  parts: optional(record(nonempty(string()), mix)),
  products: optional(sizedCount),
  initialStock: optional(sizedCount),
  attemptsPerUnit: optional(positive),
  throughputStock: optional(positive),
  maxDuration: optional(duration),
  maxWaitMs: optional(positive),
  rate: optional(object({ perSecond: positive, fractionOfMaxWriteRate: number() })),
  thresholds: ThresholdsStruct,
});

const ScenarioFileStruct = object({
  $comment: optional(string()),
  connections: positive,
  warmup: sizedDuration,
  payloads: PayloadsStruct,
  scenarios: record(nonempty(string()), ScenarioStruct),
});

export type Mix = Record<string, number>;
export type Thresholds = Infer<typeof ThresholdsStruct>;
export type Payloads = Infer<typeof PayloadsStruct>;
export type ScenarioDefinition = Infer<typeof ScenarioStruct>;
export type ScenarioFile = Infer<typeof ScenarioFileStruct>;

export function parseScenarioFile(json: unknown): ScenarioFile {
  const [error, value] = validate(json, ScenarioFileStruct);
  if (error) throw new Error(`${SCENARIOS_FILE}: ${error.path.join('.') || '(root)'}: ${error.message}`);
  return value;
}

export function loadScenarioFile(file = SCENARIOS_FILE): ScenarioFile {
  return parseScenarioFile(JSON.parse(readFileSync(file, 'utf8')));
}

/** k6 duration syntax, as the shared file writes it. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

export function scenario(file: ScenarioFile, name: string): ScenarioDefinition {
  const found = file.scenarios[name];
  if (!found) throw new Error(`scenario ${name} is missing from ${SCENARIOS_FILE}`);
  return found;
}

/** A weighted choice, built once per mix so that each pick is one random number and a short scan. */
export function picker(mixToUse: Mix, random: () => number = Math.random): () => string {
  const entries = Object.entries(mixToUse);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (entries.length === 0 || total <= 0) throw new Error('a mix needs at least one positive weight');
  return () => {
    let ticket = random() * total;
    for (const [name, weight] of entries) {
      ticket -= weight;
      if (ticket < 0) return name;
    }
    return (entries[entries.length - 1] as [string, number])[0];
  };
}

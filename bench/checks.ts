/** Correctness verdicts the bench draws from what the services answered; pure so they are unit-tested. */

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/**
 * A run that never sells out: each 201 reports the stock it left, so n successful reservations that
 * took distinct units leave n distinct values ending at initial - n x quantity. A duplicate or a value
 * below that is an oversell (two reservations took the same unit).
 */
/**
 * Every success took a unit of its own: distinct resulting stocks, never below zero. A timed run
 * ends by closing its connections, so up to `unansweredAtMost` reservations (one per connection)
 * can be applied by the server without their answers being recorded: the lowest stock seen may be
 * that many units below what the recorded successes alone explain, never above it.
 */
export function noOversellCheck(
  name: string,
  initialStock: number,
  quantity: number,
  stocks: number[],
  unansweredAtMost = 0,
): Check {
  const successes = stocks.length;
  const distinct = new Set(stocks).size;
  let lowest = initialStock;
  for (const stock of stocks) lowest = Math.min(lowest, stock);
  const expectedLowest = initialStock - successes * quantity;
  const unanswered = (expectedLowest - lowest) / quantity;
  const passed = distinct === successes && lowest >= 0 && unanswered >= 0 && unanswered <= unansweredAtMost;
  const detail = passed
    ? `${successes.toLocaleString('en-US')} reservations, each on its own unit; stock ${initialStock} -> ${lowest}` +
      (unanswered > 0 ? ` (${unanswered} more applied as the run closed its connections, unanswered)` : '')
    : `${successes.toLocaleString('en-US')} reservations reported ${distinct.toLocaleString('en-US')} distinct stock ` +
      `values, lowest ${lowest}, expected ${expectedLowest} (at most ${unansweredAtMost} unanswered)`;
  return { name, passed, detail };
}

export interface ExhaustionCounts {
  initialStock: number;
  quantity: number;
  attempts: number;
  successes: number;
  insufficientStock: number;
  errors: number;
}

/** A run that sells out: exactly the stock is sold and every other attempt is told `insufficient-stock`. */
export function exhaustionCheck(name: string, counts: ExhaustionCounts): Check {
  const expected = Math.floor(counts.initialStock / counts.quantity);
  const passed =
    counts.successes === expected && counts.insufficientStock === counts.attempts - expected && counts.errors === 0;
  return {
    name,
    passed,
    detail:
      `${counts.attempts} attempts on stock ${counts.initialStock}: ${counts.successes} succeeded (expected ${expected}), ` +
      `${counts.insufficientStock} insufficient-stock (expected ${counts.attempts - expected}), ${counts.errors} other answers`,
  };
}

/**
 * Sums every field named one of `keys` (case-insensitive) anywhere in a JSON answer. `/projections`
 * fixes the per-partition field names (lag, end offset) but not the envelope around the list, and
 * Kafka clients often render offsets as strings, so numeric strings count too.
 */
export function sumFields(json: unknown, keys: readonly string[]): number | undefined {
  const wanted = new Set(keys.map((key) => key.toLowerCase()));
  let found = false;
  let sum = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        const number = typeof inner === 'string' && /^\d+$/.test(inner) ? Number(inner) : inner;
        if (wanted.has(key.toLowerCase()) && typeof number === 'number' && Number.isFinite(number)) {
          found = true;
          sum += number;
        } else {
          visit(inner);
        }
      }
    }
  };
  visit(json);
  return found ? sum : undefined;
}

export const LAG_FIELDS = ['lag'] as const;
export const END_OFFSET_FIELDS = ['endOffset', 'end_offset', 'highWatermark'] as const;

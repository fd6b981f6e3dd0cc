/**
 * Latency samples and outcome counts of one measured run. Every sample is kept (a growable typed
 * array, 8 bytes each) rather than bucketed, because the runs are short and exact p99s of small runs
 * matter more here than memory.
 */

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of the first `count` samples (sorted in place). */
export function summarizeLatencies(samples: Float64Array, count = samples.length): LatencySummary | null {
  if (count === 0) return null;
  const sorted = samples.subarray(0, count).sort();
  const rank = (p: number) => sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))] as number;
  return { p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[count - 1] as number };
}

export class Recorder {
  private samples = new Float64Array(4096);
  private sampleCount = 0;
  private readonly counts = new Map<string, number>();
  private errorCount = 0;
  readonly startedAt = performance.now();
  private lastAt = this.startedAt;

  latency(ms: number): void {
    if (this.sampleCount === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.sampleCount++] = ms;
    this.lastAt = performance.now();
  }

  /** `key` names what came back (`ok`, `insufficient-stock`, `status 500`, ...); errors are the unexpected ones. */
  outcome(key: string, isError: boolean): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (isError) this.errorCount++;
  }

  get completed(): number {
    return this.sampleCount;
  }

  get errors(): number {
    return this.errorCount;
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Seconds from the start to the last response, so a run's idle tail does not dilute its rate. */
  get seconds(): number {
    return Math.max(0.001, (this.lastAt - this.startedAt) / 1000);
  }

  summary(): { requests: number; seconds: number; throughput: number; latencyMs: LatencySummary | null } {
    const seconds = this.seconds;
    return {
      requests: this.sampleCount,
      seconds,
      throughput: this.sampleCount / seconds,
      latencyMs: summarizeLatencies(this.samples, this.sampleCount),
    };
  }

  outcomes(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

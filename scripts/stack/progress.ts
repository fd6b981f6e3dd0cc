/** Progress lines for long stack operations: one prefix, elapsed time, to stderr so stdout stays for tables. */
const started = Date.now();

export function say(component: string, message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[stack ${seconds}s] ${component.padEnd(14)} ${message}\n`);
}

export class StackError extends Error {
  constructor(
    readonly component: string,
    message: string,
    readonly log?: string,
  ) {
    super(`${component}: ${message}${log ? ` (log: ${log})` : ''}`);
    this.name = 'StackError';
  }
}

export async function waitFor(
  what: () => Promise<boolean>,
  { timeoutMs, intervalMs = 500 }: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await what().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

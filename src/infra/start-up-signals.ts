/**
 * The first import of each entry point: from then on a SIGTERM or SIGINT ends the process, with
 * 128 + the signal's number as its code, until `onShutdown` (src/http/serve.ts) takes over with the
 * graceful shutdown. Start-up (migrations, Kafka and MongoDB connections) can take minutes on a fresh
 * cluster, and in a container Node is PID 1, which the kernel shields from every signal that has no
 * handler: a pod still starting used to ignore SIGTERM for its whole grace period, until SIGKILL.
 */

const exitCodes = { SIGINT: 130, SIGTERM: 143 } as const;
const handlers = Object.entries(exitCodes).map(([signal, code]) => ({ signal, exit: () => process.exit(code) }));
for (const { signal, exit } of handlers) process.once(signal, exit);

/** Hands the signals over to a graceful shutdown. */
export function endStartUp(): void {
  for (const { signal, exit } of handlers) process.off(signal, exit);
}

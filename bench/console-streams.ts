import { type ClientRequest, request } from 'node:http';
import type { LatencySummary } from './stats.ts';

/** GET-by-id figures with and without open console streams (the `console-streams` step). */
export interface ConsoleStreamsResult {
  status: 'measured' | 'failed' | 'skipped';
  detail: string;
  streams?: number;
  without?: StreamsRun;
  with?: StreamsRun;
  /** Events the average stream received during the run with streams. */
  eventsPerStream?: number;
  /** Streams the service ended during that run (it drops clients that do not keep up). */
  streamsEnded?: number;
}

export interface StreamsRun {
  throughput: number;
  requests: number;
  latencyMs: LatencySummary | null;
  errors: number;
}

export interface OpenStreams {
  /** `event:` lines received so far, over every stream. */
  events(): number;
  /** Streams that ended or failed after opening. */
  ended(): number;
  close(): void;
}

/**
 * Opens `count` GET /projections/stream connections, as that many browsers with the console open
 * would, and reads them (counting events), so they are never dropped as slow. Resolves once every
 * stream has answered 200.
 */
export async function openStreams(baseUrl: string, count: number): Promise<OpenStreams> {
  const url = new URL('/projections/stream', baseUrl);
  let events = 0;
  let ended = 0;
  let closing = false;
  const requests: ClientRequest[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`GET /projections/stream answered ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          for (let at = chunk.indexOf('event: '); at !== -1; at = chunk.indexOf('event: ', at + 1)) events += 1;
        });
        response.on('close', () => {
          if (!closing) ended += 1;
        });
        resolve();
      });
      req.on('error', (error) => {
        if (!closing) reject(error);
      });
      req.end();
      requests.push(req);
    });
  const close = () => {
    closing = true;
    for (const req of requests) req.destroy();
  };
  try {
    await Promise.all(Array.from({ length: count }, one));
  } catch (error) {
    close();
    throw error;
  }
  return { events: () => events, ended: () => ended, close };
}

const ms = (value: number | undefined) => (value === undefined ? '?' : `${value.toFixed(1)} ms`);

export function describeConsoleStreams(result: ConsoleStreamsResult | undefined): string {
  if (!result) return 'not measured';
  if (result.status !== 'measured' || !result.with || !result.without) return `${result.status}: ${result.detail}`;
  return (
    `GET by id p99 ${ms(result.without.latencyMs?.p99)} with no console stream open, ` +
    `${ms(result.with.latencyMs?.p99)} with ${result.streams} open ` +
    `(p50 ${ms(result.without.latencyMs?.p50)} / ${ms(result.with.latencyMs?.p50)}; ` +
    `${Math.round(result.without.throughput).toLocaleString('en-US')} / ${Math.round(result.with.throughput).toLocaleString('en-US')} req/s); ` +
    `each stream received ${result.eventsPerStream?.toFixed(1)} events meanwhile, ${result.streamsEnded} ended early. ${result.detail}`
  );
}

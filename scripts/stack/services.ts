import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Component } from './component.ts';
import { adminTokenFile, kafkaNodes, logFile, ports, repoRoot, tokenFile, urls } from './paths.ts';
import { runningPid, startDaemon, stopDaemon } from './processes.ts';
import { StackError, say, waitFor } from './progress.ts';

/** A bearer token kept in the state folder: generated once, so restarts keep accepting it. */
function token(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

export const apiToken = (): string => process.env.COMMAND_API_TOKENS?.split(',')[0]?.trim() || token(tokenFile);
export const adminToken = (): string => process.env.ADMIN_API_TOKENS?.split(',')[0]?.trim() || token(adminTokenFile);

/** The environment the stack gives its services: every URL points at the stack's own servers. */
export function serviceEnv(): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: urls.database,
    KAFKA_BROKERS: urls.brokers,
    KAFKA_REPLICATION_FACTOR: String(kafkaNodes >= 3 ? 3 : 1),
    MONGO_URL: urls.mongo,
    COMMAND_PORT: String(ports.command),
    QUERY_PORT: String(ports.query),
    COMMAND_API_TOKENS: process.env.COMMAND_API_TOKENS ?? apiToken(),
    ADMIN_API_TOKENS: process.env.ADMIN_API_TOKENS ?? adminToken(),
  };
}

async function ready(url: string): Promise<boolean> {
  const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
  return response.status === 200;
}

function service(name: string, entry: string, url: string, detail?: () => Promise<string>): Component {
  const script = join(repoRoot, entry);
  return {
    name,
    address: url.replace('http://', ''),
    async install() {},
    async start() {
      if (!existsSync(script)) throw new StackError(name, `${entry} does not exist`);
      if (!runningPid(name)) {
        say(name, `starting on ${url}`);
        startDaemon({
          name,
          command: process.execPath,
          args: ['--import', 'tsx', script],
          marker: script,
          cwd: repoRoot,
          env: serviceEnv(),
        });
      }
      if (!(await waitFor(() => ready(url), { timeoutMs: 90_000 }))) {
        throw new StackError(name, `${url}/health/ready did not answer 200 within 90 s`, logFile(name));
      }
    },
    healthy: () => ready(url).catch(() => false),
    pid: () => runningPid(name),
    async stop() {
      await stopDaemon(name, { graceMs: 20_000 });
    },
    detail,
  };
}

async function projectionLag(): Promise<string> {
  const response = await fetch(`${urls.query}/projections`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) return '';
  const body = (await response.json()) as { partitions?: { lag?: number }[]; totalLag?: number };
  const lag = body.totalLag ?? body.partitions?.reduce((sum, p) => sum + (p.lag ?? 0), 0);
  return lag === undefined ? '' : `projection lag ${lag}`;
}

export const commandService = service('command-service', 'src/command-service.ts', urls.command);
export const queryService = service('query-service', 'src/query-service.ts', urls.query, () =>
  projectionLag().catch(() => ''),
);
export const serviceComponents = [commandService, queryService].filter((c) =>
  existsSync(join(repoRoot, c === commandService ? 'src/command-service.ts' : 'src/query-service.ts')),
);

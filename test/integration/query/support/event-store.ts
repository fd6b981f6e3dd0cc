import { spawn } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { migrate } from '../../../../src/infra/event-store/migrations.ts';
import type { Sql } from '../../../../src/infra/postgres.ts';
import { databaseUrl, uniqueName } from '../../../support/env.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

/**
 * An event store of the test's own: a PostgreSQL schema on the stack's database, reached through a
 * URL whose `search_path` selects it, so `verify` sees only this test's streams.
 */
export async function privateEventStore(): Promise<{ sql: Sql; url: string; drop: () => Promise<void> }> {
  const schema = uniqueName('q_store').replaceAll('-', '_');
  const adminSql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await adminSql.unsafe(`create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('search_path', schema);
  const sql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  await migrate(sql);
  return {
    sql,
    url: url.toString(),
    async drop() {
      await sql.end();
      await adminSql.unsafe(`drop schema ${schema} cascade`);
      await adminSql.end();
    },
  };
}

/** Runs `scripts/verify.ts` against the given event store and views; its exit code and output. */
export function runVerify(env: Record<string, string>, waitMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/verify.ts', '--wait-ms', String(waitMs)], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

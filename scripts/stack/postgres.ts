import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Component } from './component.ts';
import { ensureFerretdbIdIndexes } from './ferretdb-indexes.ts';
import { logFile, ports, stateDir, testData, urls } from './paths.ts';
import { run, runningPid, startDaemon, stopDaemon } from './processes.ts';
import { StackError, say, waitFor } from './progress.ts';
import { ensurePostgresInstalled, postgresBin, postgresRunAs } from './system.ts';

const root = join(stateDir, 'postgres');
const dataDir = join(root, 'data');
const socketDir = join(root, 'run');

/** Durable settings (fsync and synchronous commit stay on: the event store's acknowledgements mean it). */
const settings = `
listen_addresses = '127.0.0.1'
port = ${ports.postgres}
unix_socket_directories = '${socketDir}'
max_connections = 300
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 2GB
log_min_messages = warning
log_line_prefix = '%m [%p] '
`;

const superuser = (database: string) =>
  postgres({ path: join(socketDir, `.s.PGSQL.${ports.postgres}`), user: 'postgres', database, onnotice: () => {} });

/**
 * Creates `name` if it does not exist, as every database of the stack is created: owned by the role
 * `catalog`, with the cluster's defaults (UTF8, C locale). Idempotent.
 */
async function createDatabase(sql: postgres.Sql, name: string): Promise<void> {
  const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
  if (exists) return;
  say('postgres', `creating database ${name}`);
  await sql.unsafe(`create database ${name} owner catalog`);
}

const FERRETDB_STATEMENT_TIMEOUT = '120s';

async function bootstrap(): Promise<void> {
  const sql = superuser('postgres');
  try {
    const [role] = await sql`select 1 from pg_roles where rolname = 'catalog'`;
    if (!role) await sql.unsafe(`create role catalog login password 'catalog'`);
    // The event store, FerretDB's storage, and `npm test`'s event store (see `testData`).
    for (const db of ['catalog', 'ferretdb', testData.database]) await createDatabase(sql, db);
    // FerretDB v1 leaves a query running when its client goes away mid-result (a driver timeout,
    // a closed pool): the backend waits in ClientWrite for ever, holding one of FerretDB's
    // connections. Seen on the stack: 50 such scans of a products collection, 35 minutes old, and
    // FerretDB answered nothing more. A cancel frees them (FerretDB then reuses the connection), so
    // a statement timeout bounds them; FerretDB's longest real statements (index builds, bulk
    // inserts of a rebuild) take seconds.
    await sql.unsafe(`alter database ferretdb set statement_timeout = '${FERRETDB_STATEMENT_TIMEOUT}'`);
  } finally {
    await sql.end();
  }
  const ferretdb = superuser('ferretdb');
  try {
    await ensureFerretdbIdIndexes(ferretdb);
  } finally {
    await ferretdb.end();
  }
}

/**
 * `npm test`'s database, empty: dropped and created again, so that test runs do not pile up data.
 * Returns false, and leaves it as it is, when another session is connected to it (a second test run,
 * or a test's service left over from an interrupted one): nothing is ever terminated. Only ever
 * touches `testData.database`, never `catalog` or `ferretdb`.
 */
const DROP_TEST_DATABASE_TIMEOUT_MS = 30_000;

export async function recreateTestDatabase(): Promise<boolean> {
  const name = testData.database;
  if (!/^[a-z0-9_]+_test$/.test(name)) throw new StackError('postgres', `${name} is not a test database's name`);
  const sql = superuser('postgres');
  try {
    try {
      // DROP DATABASE waits until every backend of the cluster has acknowledged a signal barrier; a
      // backend stuck writing to a client that stopped reading (FerretDB leaves such queries behind)
      // never does, and the drop waited for ever (seen: 19 minutes, then killed). Bounded, it is
      // treated like a database in use.
      await sql.unsafe(`set statement_timeout = ${DROP_TEST_DATABASE_TIMEOUT_MS}`);
      await sql.unsafe(`drop database if exists ${name}`);
    } catch (error) {
      // 55006 object_in_use: "database is being accessed by other users"; 57014: the timeout above.
      const code = (error as { code?: string }).code;
      if (code === '55006' || code === '57014') {
        await createDatabase(sql, name);
        return false;
      }
      throw error;
    }
    await createDatabase(sql, name);
    return true;
  } finally {
    await sql.end();
  }
}

async function answers(): Promise<boolean> {
  const sql = postgres(urls.database, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as ok`;
    return row?.ok === 1;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export const postgresComponent: Component = {
  name: 'postgres',
  address: `127.0.0.1:${ports.postgres}`,
  async install() {
    ensurePostgresInstalled();
  },
  async start() {
    const runAs = postgresRunAs();
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      say('postgres', `initialising a cluster in ${dataDir}`);
      // The postgres user must be able to reach its folders through the state folder.
      mkdirSync(socketDir, { recursive: true });
      chmodSync(stateDir, 0o755);
      mkdirSync(dataDir, { mode: 0o700 });
      if (runAs) for (const dir of [root, dataDir, socketDir]) chownSync(dir, runAs.uid, runAs.gid);
      run(
        'postgres',
        join(postgresBin, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          'postgres',
          '-E',
          'UTF8',
          '--no-locale',
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
        ],
        { runAs, quiet: true },
      );
      appendFileSync(join(dataDir, 'postgresql.conf'), settings);
    }
    if (!runningPid('postgres')) {
      say('postgres', `starting on ${this.address}`);
      startDaemon({
        name: 'postgres',
        command: join(postgresBin, 'postgres'),
        args: ['-D', dataDir],
        marker: dataDir,
        runAs,
      });
    }
    const socket = join(socketDir, `.s.PGSQL.${ports.postgres}`);
    if (!(await waitFor(async () => existsSync(socket), { timeoutMs: 60_000, intervalMs: 200 }))) {
      throw new StackError('postgres', 'did not open its socket within 60 s', logFile('postgres'));
    }
    await waitFor(
      async () => {
        await bootstrap();
        return true;
      },
      { timeoutMs: 30_000 },
    );
    if (!(await waitFor(answers, { timeoutMs: 30_000 }))) {
      throw new StackError('postgres', 'does not answer SQL', logFile('postgres'));
    }
  },
  healthy: () => answers().catch(() => false),
  pid: () => runningPid('postgres'),
  async stop() {
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
    await stopDaemon('postgres', { graceMs: 60_000, signal: 'SIGINT', leaderOnly: true });
  },
};

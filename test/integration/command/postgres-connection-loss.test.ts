import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { createLogger } from '../../../src/infra/logger.ts';
import {
  createSql,
  isConnectionError,
  isDatabaseUnavailable,
  type Sql,
  type TransactionSql,
} from '../../../src/infra/postgres.ts';
import { databaseUrl, sqlClient, uniqueName } from '../../support/env.ts';

/**
 * `createSql` against a real PostgreSQL whose backends die under it: the pinned connections of
 * `reserve()` and `begin()` fail their statements with a catchable connection error instead of
 * crashing the process on a closed socket (postgres.js 3.4.9, porsager/postgres#1208), and the pool
 * goes on working. Only backends this test itself opened are terminated. If this process crashed,
 * the whole file fails.
 * Also: every connection carries the configured statement and lock timeouts.
 */

const admin = sqlClient();
const logger = createLogger('postgres-connection-loss-test', 'silent');
const opened: Sql[] = [];

function sqlFor(options: { statementTimeoutMs?: number; lockTimeoutMs?: number } = {}): Sql {
  const sql = createSql(databaseUrl, { max: 2, logger, applicationName: uniqueName('pg-loss'), ...options });
  opened.push(sql);
  return sql;
}

after(async () => {
  await Promise.all(opened.map((sql) => sql.end({ timeout: 2 })));
  await admin.end({ timeout: 5 });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Terminates one backend (one this test opened) and waits until its client has seen the close. */
async function terminate(pid: number): Promise<void> {
  const [row] = await admin`select pg_terminate_backend(${pid}) as done`;
  assert.equal(row?.done, true, `backend ${pid} terminated`);
  await sleep(300);
}

const connectionLost = (error: unknown) => {
  assert.ok(isConnectionError(error), `a connection error, got ${String(error)}`);
  return true;
};

const backendPid = async (sql: Sql | TransactionSql): Promise<number> =>
  ((await sql`select pg_backend_pid() as pid`)[0]?.pid as number) ?? assert.fail('no pid');

describe('reserve(): a session of its own that fails closed', () => {
  test('statements after the backend was terminated reject; release() and the pool go on working', async () => {
    const sql = sqlFor();
    const key = randomInt(1, 2 ** 47);
    const session = await sql.reserve();
    assert.equal((await session`select pg_try_advisory_lock(${key}) as locked`)[0]?.locked, true);
    await terminate(await backendPid(session));
    // postgres.js 3.4.9 itself crashes the process on the first of these (see the last test).
    await assert.rejects(session`select 1`, connectionLost);
    await assert.rejects(session`select 1`, connectionLost);
    await assert.rejects(session.unsafe('select 1'), connectionLost);
    session.release();
    assert.equal((await sql`select 1 as one`)[0]?.one, 1, 'the pool still answers');
    // The lock went with the session: a new one gets it, on a new backend.
    const next = await sql.reserve();
    try {
      assert.equal((await next`select pg_try_advisory_lock(${key}) as locked`)[0]?.locked, true);
    } finally {
      next.release();
    }
  });

  test('a statement in flight when the backend dies rejects, and so does every later one', async () => {
    const sql = sqlFor();
    const session = await sql.reserve();
    const pid = await backendPid(session);
    const sleeping = session`select pg_sleep(10)`;
    const outcome = assert.rejects(sleeping, connectionLost);
    await sleep(200);
    await terminate(pid);
    await outcome;
    await assert.rejects(session`select 1`, connectionLost);
    session.release();
    assert.equal((await sql`select 1 as one`)[0]?.one, 1);
  });

  test('reserve() rejects when PostgreSQL cannot be reached', async () => {
    const url = new URL(databaseUrl);
    url.port = '1';
    const sql = createSql(url.toString(), { max: 1, logger, applicationName: uniqueName('pg-loss') });
    opened.push(sql);
    await assert.rejects(sql.reserve(), connectionLost);
  });
});

describe('begin(): a transaction whose connection dies rejects and sends nothing more', () => {
  const cases: [string, (tx: TransactionSql, kill: () => Promise<void>) => Promise<unknown>][] = [
    [
      'the callback throws the error of a statement in flight (postgres.js would send ROLLBACK)',
      async (tx, kill) => {
        const sleeping = tx`select pg_sleep(10)`;
        setTimeout(() => void kill(), 200);
        await sleeping;
      },
    ],
    [
      'the connection dies between two statements',
      async (tx, kill) => {
        await kill();
        await tx`select 1`;
      },
    ],
    [
      'the callback swallows the error and goes on (postgres.js would send COMMIT)',
      async (tx, kill) => {
        await kill();
        await tx`select 1`.catch(() => {});
        await tx.unsafe('select 2').catch(() => {});
        return 'done';
      },
    ],
    [
      'a savepoint inside the transaction fails (postgres.js would send ROLLBACK TO SAVEPOINT)',
      async (tx, kill) => {
        await tx.savepoint(async (sp) => {
          await kill();
          await sp`select 1`;
        });
      },
    ],
  ];
  for (const [name, body] of cases) {
    test(name, async () => {
      const sql = sqlFor();
      await assert.rejects(
        sql.begin(async (tx) => {
          const pid = await backendPid(tx);
          return body(tx, () => terminate(pid));
        }),
        connectionLost,
      );
      assert.equal((await sql`select 1 as one`)[0]?.one, 1, 'the pool still answers');
      assert.equal(await sql.begin(async (tx) => (await tx`select 2 as two`)[0]?.two), 2, 'a new transaction commits');
    });
  }

  test('a transaction that fails for another reason rolls back as before', async () => {
    const sql = sqlFor();
    await assert.rejects(
      sql.begin(async (tx) => {
        await tx`select 1`;
        throw new Error('the callback failed');
      }),
      /the callback failed/,
    );
    await assert.rejects(
      sql.begin(async (tx) => tx`select 1/0`),
      (error: unknown) => (error as { code?: string }).code === '22012',
    );
    assert.equal((await sql`select 1 as one`)[0]?.one, 1);
  });
});

describe('array types: read once per pool, not on every new connection', () => {
  test('array parameters and columns work on new connections and sessions, which read no types', async () => {
    const sql = sqlFor();
    const arrays = async (s: Sql) => {
      const [row] = await s`select ${['a', 'b']}::text[] as texts, array[1, 2]::int4[] as ints`;
      assert.deepEqual(row?.texts, ['a', 'b']);
      assert.deepEqual(row?.ints, [1, 2]);
    };
    await arrays(sql);
    await terminate(await backendPid(sql));
    await arrays(sql);
    // Every connection after the first skips postgres.js's start-up type query (#1192, #1223).
    assert.equal(sql.options.fetch_types, false);
    const session = await sql.reserve();
    try {
      await arrays(session);
      assert.equal(session.options.fetch_types, false, 'the session took the pool’s types');
    } finally {
      session.release();
    }
  });
});

describe('timeouts on every connection', () => {
  test('statement_timeout and lock_timeout are set on pooled, reserved and transaction connections', async () => {
    const sql = sqlFor({ statementTimeoutMs: 1500, lockTimeoutMs: 300 });
    const settings = async (s: Sql | TransactionSql) =>
      (await s`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`)[0];
    assert.deepEqual({ ...(await settings(sql)) }, { statement: '1500ms', lock: '300ms' });
    assert.deepEqual({ ...(await sql.begin((tx) => settings(tx))) }, { statement: '1500ms', lock: '300ms' });
    const session = await sql.reserve();
    try {
      assert.deepEqual({ ...(await settings(session)) }, { statement: '1500ms', lock: '300ms' });
    } finally {
      session.release();
    }
  });

  test('a statement past the statement timeout, or a lock wait past the lock timeout, fails as "unavailable"', async () => {
    const sql = sqlFor({ statementTimeoutMs: 500, lockTimeoutMs: 200 });
    await assert.rejects(sql`select pg_sleep(3)`, (error: unknown) => {
      assert.equal((error as { code?: string }).code, '57014');
      assert.ok(isDatabaseUnavailable(error));
      return true;
    });
    const key = randomInt(1, 2 ** 47);
    const holder = await admin.reserve();
    try {
      await holder`select pg_advisory_lock(${key})`;
      const started = Date.now();
      await assert.rejects(sql`select pg_advisory_lock(${key})`, (error: unknown) => {
        assert.equal((error as { code?: string }).code, '55P03');
        assert.ok(isDatabaseUnavailable(error));
        return true;
      });
      assert.ok(Date.now() - started < 2000, 'the lock wait ended at the lock timeout');
    } finally {
      await holder`select pg_advisory_unlock(${key})`;
      holder.release();
    }
  });

  test('without explicit values, the DATABASE_*_TIMEOUT_MS variables (or their defaults) apply', async () => {
    const sql = sqlFor();
    const [row] =
      await sql`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`;
    const ms = (name: string, fallback: number) => `${Number(process.env[name] ?? fallback)}`;
    const shown = (value: string) =>
      /^\d+s$/.test(value) ? `${Number.parseInt(value, 10) * 1000}` : value.replace(/ms$/, '');
    assert.equal(shown(row?.statement as string), ms('DATABASE_STATEMENT_TIMEOUT_MS', 15_000));
    assert.equal(shown(row?.lock as string), ms('DATABASE_LOCK_TIMEOUT_MS', 5_000));
  });
});

test('postgres.js itself still crashes on a closed reserved connection (when this fails, an upgrade fixed #1208: drop the guards in createSql)', async () => {
  const script = `
    import postgres from 'postgres';
    const sql = postgres(${JSON.stringify(databaseUrl)}, { max: 2, onnotice() {} });
    const killer = postgres(${JSON.stringify(databaseUrl)}, { max: 1, onnotice() {} });
    const reserved = await sql.reserve();
    const [{ pid }] = await reserved\`select pg_backend_pid() as pid\`;
    await killer\`select pg_terminate_backend(\${pid})\`;
    await new Promise((r) => setTimeout(r, 300));
    await reserved\`select 1\`.catch(() => {});
    await reserved\`select 1\`.catch(() => {});
    await killer.end();
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('../../../', import.meta.url),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.notEqual(code, 0, 'postgres.js no longer crashes: the workaround in src/infra/postgres.ts can go');
  assert.match(stderr, /nextWrite/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
  commandSettings,
  databaseTimeoutSettings,
  loadConfig,
  loadDatabaseTimeouts,
} from '../../../src/infra/config.ts';

test('statement and lock timeouts default to 15 s and 5 s', () => {
  const config = loadConfig(commandSettings, {});
  assert.equal(config.DATABASE_STATEMENT_TIMEOUT_MS, 15_000);
  assert.equal(config.DATABASE_LOCK_TIMEOUT_MS, 5_000);
  assert.deepEqual(loadDatabaseTimeouts(config), { statementMs: 15_000, lockMs: 5_000 });
});

test('a timeout must be a positive number of milliseconds: none can be turned off', () => {
  for (const [name, value] of [
    ['DATABASE_STATEMENT_TIMEOUT_MS', '0'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '15s'],
    ['DATABASE_LOCK_TIMEOUT_MS', '0'],
    ['DATABASE_LOCK_TIMEOUT_MS', '-1'],
  ] as const) {
    assert.throws(
      () => loadConfig(databaseTimeoutSettings, { [name]: value }),
      (error: unknown) => error instanceof ConfigError && error.problems[0]?.startsWith(`${name}=`) === true,
      `${name}=${value}`,
    );
  }
});

test('a lock timeout longer than the statement timeout is refused (it would never fire)', () => {
  const config = loadConfig(databaseTimeoutSettings, {
    DATABASE_STATEMENT_TIMEOUT_MS: '2000',
    DATABASE_LOCK_TIMEOUT_MS: '3000',
  });
  assert.throws(() => loadDatabaseTimeouts(config), /DATABASE_LOCK_TIMEOUT_MS=3000: must not exceed/);
  assert.deepEqual(
    loadDatabaseTimeouts(
      loadConfig(databaseTimeoutSettings, { DATABASE_STATEMENT_TIMEOUT_MS: '2000', DATABASE_LOCK_TIMEOUT_MS: '2000' }),
    ),
    { statementMs: 2000, lockMs: 2000 },
  );
});

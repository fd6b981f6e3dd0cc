import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, commandSettings, loadConfig, querySettings } from '../../../src/infra/config.ts';

test('the defaults run the local stack', () => {
  const config = loadConfig(commandSettings, {});
  assert.equal(config.COMMAND_PORT, 8080);
  assert.equal(config.DATABASE_URL, 'postgres://catalog:catalog@127.0.0.1:54329/catalog');
  assert.equal(loadConfig(querySettings, {}).QUERY_PORT, 8081);
});

test('values are coerced from their text', () => {
  const config = loadConfig(commandSettings, { COMMAND_PORT: '9090', WORKER_THREADS: '4' });
  assert.equal(config.COMMAND_PORT, 9090);
  assert.equal(config.WORKER_THREADS, 4);
});

test('every bad value is named with the variable and what was wrong', () => {
  assert.throws(
    () =>
      loadConfig(commandSettings, {
        COMMAND_PORT: '70000',
        DATABASE_URL: 'mysql://x',
        KAFKA_BROKERS: 'nohostport',
        COMMAND_API_TOKENS: 'short',
        LOG_LEVEL: 'loud',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const names = error.problems.map((p) => p.split('=')[0]);
      assert.deepEqual(names.sort(), [
        'COMMAND_API_TOKENS',
        'COMMAND_PORT',
        'DATABASE_URL',
        'KAFKA_BROKERS',
        'LOG_LEVEL',
      ]);
      assert.match(error.message, /DATABASE_URL="mysql:\/\/x": .*postgres/);
      return true;
    },
  );
});

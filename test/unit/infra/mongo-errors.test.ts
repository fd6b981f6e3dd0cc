import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MongoNetworkError, MongoServerError } from 'mongodb';
import { isMongoUnavailable, isWriteRefused } from '../../../src/infra/mongo.ts';

const internalError = (errmsg: string) => new MongoServerError({ ok: 0, code: 1, codeName: 'InternalError', errmsg });

test('FerretDB without its PostgreSQL is unavailable, never a refusal', () => {
  // As FerretDB v1.24.2 answered while the chaos run restarted its PostgreSQL.
  const messages = [
    '[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:109 postgresql.(*collection).Query] failed to connect to `user=catalog database=ferretdb`:\n\t127.0.0.1:54329 (127.0.0.1): dial error: dial tcp 127.0.0.1:54329: connect: connection refused',
    '[msg_find.go:344 handler.handleMaxTimeMSError] [values.go:74 iterator.ConsumeValuesN[...]] FATAL: terminating connection due to administrator command (SQLSTATE 57P01)',
    '[msg_update.go:117 handler.(*Handler).updateDocument] FATAL: the database system is starting up (SQLSTATE 57P03)',
    '[msg_update.go:117 handler.(*Handler).updateDocument] FATAL: sorry, too many clients already (SQLSTATE 53300)',
    '[msg_insert.go:90 handler.(*Handler).MsgInsert] conn closed',
  ];
  for (const message of messages) {
    const error = internalError(message);
    assert.equal(isMongoUnavailable(error), true, message);
    assert.equal(isWriteRefused(error), false, message);
  }
});

test("a socket error the driver passes on unwrapped is unavailable; a file system's is not", () => {
  assert.equal(isMongoUnavailable(Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' })), true);
  assert.equal(isMongoUnavailable(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), true);
  assert.equal(isMongoUnavailable(Object.assign(new Error('no such file'), { code: 'ENOENT' })), false);
  assert.equal(isMongoUnavailable(new MongoNetworkError('connection 5 to 127.0.0.1:27017 closed')), true);
});

test('what the server refuses for the request itself stays a refusal', () => {
  const duplicate = new MongoServerError({ ok: 0, code: 11000, errmsg: 'E11000 duplicate key error' });
  const unstorable = internalError('[msg_insert.go:90] ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)');
  for (const error of [duplicate, unstorable]) {
    assert.equal(isMongoUnavailable(error), false, error.message);
    assert.equal(isWriteRefused(error), true, error.message);
  }
  const stepDown = new MongoServerError({ ok: 0, code: 91, errmsg: 'shutting down' });
  stepDown.addErrorLabel('RetryableWriteError');
  assert.equal(isWriteRefused(stepDown), false, 'a server shutting down labels its errors retryable');
});

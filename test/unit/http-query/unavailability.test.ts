import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MongoClientClosedError, MongoNetworkError, MongoServerError } from 'mongodb';
import { unavailability } from '../../../src/http/query/unavailability.ts';
import { BulkheadFull } from '../../../src/infra/bulkhead.ts';

test('a full bulkhead, a query past its maxTimeMS, an unreachable database and a closed client are 503s with Retry-After', () => {
  const cases: [Error, RegExp, string][] = [
    [new BulkheadFull('list queries'), /too many list queries in progress/, '1'],
    [new MongoServerError({ code: 50, errmsg: 'operation exceeded time limit' }), /time limit/, '5'],
    [new MongoNetworkError('connection refused'), /does not answer/, '5'],
    // What a request still waiting on MongoDB gets when a shutdown closes the client under it.
    [new MongoClientClosedError(), /does not answer/, '5'],
    // What the driver throws, unwrapped, on a pooled connection that a restarted MongoDB reset.
    [Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET', syscall: 'write' }), /does not answer/, '5'],
  ];
  for (const [error, detail, retryAfter] of cases) {
    const problem = unavailability(error);
    assert.equal(problem?.status, 503, error.message);
    assert.match(problem?.detail ?? '', detail);
    assert.equal(problem?.headers['Retry-After'], retryAfter);
  }
});

test('any other failure is left to the generic problem handler', () => {
  assert.equal(unavailability(new Error('boom')), undefined);
  assert.equal(unavailability(Object.assign(new Error('no such file'), { code: 'ENOENT' })), undefined);
  assert.equal(unavailability(new MongoServerError({ code: 11000, errmsg: 'duplicate key' })), undefined);
});

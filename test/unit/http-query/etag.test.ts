import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etagOf, ifNoneMatchHits } from '../../../src/http/query/etag.ts';

test('If-None-Match matches the version tag weakly, in a list, or as *', () => {
  const etag = etagOf(7);
  assert.equal(etag, '"7"');
  assert.equal(ifNoneMatchHits('"7"', etag), true);
  assert.equal(ifNoneMatchHits('W/"7"', etag), true);
  assert.equal(ifNoneMatchHits('"5", "7"', etag), true);
  assert.equal(ifNoneMatchHits('*', etag), true);
  assert.equal(ifNoneMatchHits('"6"', etag), false);
  assert.equal(ifNoneMatchHits('7', etag), false);
  assert.equal(ifNoneMatchHits(undefined, etag), false);
});

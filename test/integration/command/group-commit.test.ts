import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Envelope } from '../../../src/domain/envelope.ts';
import { type AppendRequest, appendBatch } from '../../../src/infra/event-store/append.ts';
import { migrate } from '../../../src/infra/event-store/migrations.ts';
import { sqlClient, uniqueName } from '../../support/env.ts';
import { productCreated } from '../../support/envelopes.ts';
import { eventCount } from '../../support/event-log.ts';

/**
 * The group commit against PostgreSQL, for what the HTTP tests can only provoke by timing: two
 * requests of one batch that claim the same SKU or the same idempotency key. Each must be judged
 * on its own, as if they had been committed one after the other.
 */

const sql = sqlClient();
before(() => migrate(sql));
after(() => sql.end({ timeout: 5 }));

const created = (id: string, sku: string): Envelope => productCreated(id, sku, 'Batch', 'group-commit-test');

const restocked = (id: string, version: number, key: string): Envelope => ({
  ...created(id, ''),
  type: 'ProductRestocked',
  version,
  data: { quantity: 1, stock: 5 + version - 1 },
  metadata: { commandId: randomUUID(), correlationId: key, causationId: key, idempotencyKey: key },
});

test('two creates claiming one SKU in one batch: the first wins, the second is sku-taken and writes nothing', async () => {
  const sku = uniqueName('batch-sku');
  const otherSku = uniqueName('batch-sku');
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const requests: AppendRequest[] = [
    { aggregateId: a, events: [created(a, sku)], skuClaim: sku },
    { aggregateId: b, events: [created(b, sku)], skuClaim: sku },
    { aggregateId: c, events: [created(c, otherSku)], skuClaim: otherSku },
  ];
  const results = await appendBatch(sql, requests);
  assert.deepEqual(results, ['ok', 'sku-taken', 'ok']);
  assert.equal(await eventCount(sql, a), 1);
  assert.equal(await eventCount(sql, b), 0);
  assert.equal(await eventCount(sql, c), 1);
  const owners = await sql`select aggregate_id from product_skus where sku = ${sku}`;
  assert.deepEqual(
    owners.map((r) => r.aggregate_id),
    [a],
  );
});

test('two requests with one idempotency key in one batch: the first is stored, the second gets its record', async () => {
  const [a, b] = [randomUUID(), randomUUID()];
  for (const id of [a, b]) {
    const sku = uniqueName('batch-sku');
    assert.deepEqual(await appendBatch(sql, [{ aggregateId: id, events: [created(id, sku)], skuClaim: sku }]), ['ok']);
  }
  const key = uniqueName('batch-key');
  const results = await appendBatch(sql, [
    {
      aggregateId: a,
      events: [restocked(a, 2, key)],
      idempotency: { key, requestHash: 'first', outcome: { ok: true } },
    },
    {
      aggregateId: b,
      events: [restocked(b, 2, key)],
      idempotency: { key, requestHash: 'second', outcome: { ok: true } },
    },
  ]);
  assert.deepEqual(results, ['ok', { replay: { requestHash: 'first', aggregateId: a, outcome: { ok: true } } }]);
  assert.equal(await eventCount(sql, a), 2);
  assert.equal(await eventCount(sql, b), 1);
  const [record] = await sql`select request_hash, aggregate_id from idempotency_keys where key = ${key}`;
  assert.equal(record?.request_hash, 'first');
  assert.equal(record?.aggregate_id, a);
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { GroupCommitter } from '../../../src/actors/group-commit.ts';
import type { AppendRequest } from '../../../src/infra/event-store/append.ts';
import { postgresEventStore } from '../../../src/infra/event-store/event-store.ts';
import { purgeIdempotencyKeys } from '../../../src/infra/event-store/idempotency.ts';
import { migrate } from '../../../src/infra/event-store/migrations.ts';
import { isConnectionError, isPgError } from '../../../src/infra/postgres.ts';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import { sqlClient, uniqueName } from '../../support/env.ts';
import { productCreated } from '../../support/envelopes.ts';

/**
 * One bad command never fails another that shares its group commit: at the HTTP edge (a string
 * PostgreSQL cannot store is a 422 before it reaches a batch) and in the committer (a batch that
 * PostgreSQL rejects as a whole is split until the culprit fails alone).
 */

const sql = sqlClient();
let svc: CommandService;

before(async () => {
  await migrate(sql);
  svc = await startCommandService();
});
after(async () => {
  await stopAll();
  await sql.end({ timeout: 5 });
});

const body = (id: string, name = 'Isolated') => ({
  id,
  sku: uniqueName('iso'),
  name,
  price: { amount: 100, currency: 'EUR' },
  initialStock: 3,
});

test('an unstorable name among 100 concurrent creates is a 422, and the other 99 are created', async () => {
  const ids = Array.from({ length: 100 }, () => randomUUID());
  const bad = new Set([ids[13], ids[57]]);
  const replies = await Promise.all(
    ids.map((id, i) =>
      svc.request('POST', '/products', body(id, bad.has(id) ? (i === 13 ? 'nul\u0000name' : 'lone\ud800') : 'Good'), {
        'idempotency-key': randomUUID(),
      }),
    ),
  );
  for (const [i, reply] of replies.entries()) {
    if (bad.has(ids[i])) {
      assert.equal(reply.status, 422, reply.text);
      assert.equal(reply.body.type, '/problems/validation-failed');
    } else assert.equal(reply.status, 201, reply.text);
  }
  const [row] =
    await sql`select count(distinct aggregate_id)::int as n from events where aggregate_id = any(${ids}::uuid[])`;
  assert.equal(row?.n, 98);
});

const created = (id: string, name: string) => productCreated(id, uniqueName('iso'), name, 'batch-isolation');

test('a batch PostgreSQL rejects as a whole is split until the culprit fails alone; the rest commit', async () => {
  const store = postgresEventStore(sql);
  const sizes: number[] = [];
  const committer = new GroupCommitter(
    (requests) => {
      sizes.push(requests.length);
      return store.appendBatch(requests);
    },
    {
      maxBatch: 500,
      concurrency: 1,
      maxQueued: 1000,
      rolledBack: (error) => isPgError(error) && !isConnectionError(error),
    },
  );
  const ids = Array.from({ length: 16 }, () => randomUUID());
  // Past the domain's validation, as a bug would be: jsonb refuses the escaped NUL.
  const request = (id: string, i: number): AppendRequest => ({
    aggregateId: id,
    events: [created(id, i === 9 ? 'x\u0000y' : `ok ${i}`)],
  });
  const blocker = committer.submit([request(randomUUID(), 0)]);
  const outcomes = await Promise.allSettled(ids.map((id, i) => committer.submit([request(id, i)])));
  await blocker;
  assert.ok(sizes.includes(16), `the 16 were first tried together: ${sizes.join()}`);
  for (const [i, outcome] of outcomes.entries()) {
    if (i === 9) assert.equal(outcome.status, 'rejected');
    else assert.deepEqual(outcome.status === 'fulfilled' && outcome.value.results, ['ok'], `request ${i}`);
  }
  const [row] = await sql`select count(*)::int as n from events where aggregate_id = any(${ids}::uuid[])`;
  assert.equal(row?.n, 15);
});

test('idempotency records older than the TTL are purged; younger ones stay', async () => {
  const [old, young] = [uniqueName('old-key'), uniqueName('young-key')];
  await sql`
    insert into idempotency_keys (key, request_hash, aggregate_id, outcome, created_at) values
      (${old}, 'h', ${randomUUID()}, '{}', now() - interval '25 hours'),
      (${young}, 'h', ${randomUUID()}, '{}', now() - interval '23 hours')`;
  let purged = 0;
  for (let chunk = 1; chunk > 0; purged += chunk) chunk = await purgeIdempotencyKeys(sql, 24, 1000);
  assert.ok(purged >= 1);
  const left = await sql`select key from idempotency_keys where key = any(${[old, young]})`;
  assert.deepEqual(
    left.map((r) => r.key),
    [young],
  );
});

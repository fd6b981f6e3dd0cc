import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import { sqlClient, uniqueName } from '../../support/env.ts';

/**
 * Every queue on the write path is bounded: past the bound a command is answered 503 with
 * Retry-After at once and changes nothing, instead of waiting in a queue that only grows.
 */

const sql = sqlClient();
let svc: CommandService;

before(async () => {
  svc = await startCommandService({ env: { COMMANDS_MAX_IN_FLIGHT: '4', ACTOR_MAX_MAILBOX: '2' } });
});
after(async () => {
  await stopAll();
  await sql.end({ timeout: 5 });
});

const create = (id: string) => ({
  id,
  sku: uniqueName('shed'),
  name: 'Shed',
  price: { amount: 100, currency: 'EUR' },
  initialStock: 1000,
});

test('commands beyond the bounds answer 503 with Retry-After, and nothing of theirs is written', async () => {
  const ids = Array.from({ length: 40 }, () => randomUUID());
  const replies = await Promise.all(
    ids.map((id) => svc.request('POST', '/products', create(id), { 'idempotency-key': randomUUID() })),
  );
  const shed = replies.filter((r) => r.status === 503);
  const created = replies.filter((r) => r.status === 201);
  assert.equal(shed.length + created.length, ids.length, `statuses: ${replies.map((r) => r.status).join()}`);
  assert.ok(shed.length > 0, 'some were shed');
  assert.ok(created.length >= 4, 'those within the bound went through');
  for (const reply of shed) {
    assert.equal(reply.headers.get('retry-after'), '1');
    assert.equal(reply.body.type, '/problems/service-unavailable');
  }
  const shedIds = ids.filter((_, i) => replies[i]?.status === 503);
  const [row] = await sql`select count(*)::int as n from events where aggregate_id = any(${shedIds}::uuid[])`;
  assert.equal(row?.n, 0, 'a shed command wrote nothing');
});

test('one product’s full mailbox sheds its commands, and the product takes commands again afterwards', async () => {
  const id = randomUUID();
  assert.equal((await svc.request('POST', '/products', create(id))).status, 201);
  const reserve = () =>
    svc.request('POST', `/products/${id}/stock/reservations`, { quantity: 1 }, { 'idempotency-key': randomUUID() });
  const statuses = (await Promise.all(Array.from({ length: 4 }, reserve))).map((r) => r.status);
  assert.ok(
    statuses.every((s) => s === 201 || s === 503),
    statuses.join(),
  );
  const after = await reserve();
  assert.equal(after.status, 201);
  const reserved = statuses.filter((s) => s === 201).length + 1;
  assert.equal(after.body.stock, 1000 - reserved, 'each 201 took one unit, each 503 none');
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type CommandService, type Reply, startCommandService, stopAll } from '../../support/command-service.ts';
import { sqlClient, uniqueName } from '../../support/env.ts';
import { assertContiguous, storedEvents } from '../../support/event-log.ts';

/**
 * Concurrency against the real event store: one hot product under a burst of reservations, and two
 * command-service processes writing the same products (the version check, not the actor, keeps
 * them apart).
 */

const sql = sqlClient();
let one: CommandService;
let two: CommandService;

before(async () => {
  [one, two] = await Promise.all([startCommandService(), startCommandService()]);
});
after(async () => {
  await stopAll();
  await sql.end({ timeout: 5 });
});

/** Restocks and reservations require an Idempotency-Key: a fresh one per logical request. */
const withKey = (headers: Record<string, string> = {}) => ({ ...headers, 'idempotency-key': randomUUID() });

async function create(svc: CommandService, stock: number): Promise<string> {
  const id = randomUUID();
  const res = await svc.request('POST', '/products', {
    id,
    sku: uniqueName('sku'),
    name: 'Hot product',
    price: { amount: 2500, currency: 'EUR' },
    initialStock: stock,
  });
  assert.equal(res.status, 201, res.text);
  return id;
}

test('200 concurrent reservations of 1 on a stock of 50 give exactly 50 x 201 and 150 x 409 insufficient-stock', async () => {
  const id = await create(one, 50);
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      one.request('POST', `/products/${id}/stock/reservations`, { quantity: 1, reservationId: `r-${i}` }, withKey()),
    ),
  );
  const created = answers.filter((r) => r.status === 201);
  const refused = answers.filter((r) => r.status === 409);
  assert.equal(
    created.length,
    50,
    `statuses: ${answers.map((r) => (r.status === 201 ? 201 : `${r.status} ${r.text}`)).join(', ')}`,
  );
  assert.equal(refused.length, 150);
  for (const r of refused) assert.ok((r.body.type as string).endsWith('/insufficient-stock'), r.text);
  // Each success saw a different remaining stock, 49 down to 0: no unit was sold twice.
  assert.deepEqual(
    created.map((r) => r.body.stock as number).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(
    created.map((r) => r.body.version as number).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 2),
  );

  const events = (await storedEvents(sql, [id])).get(id) ?? [];
  const reserved = events.filter((e) => e.type === 'StockReserved');
  assert.equal(reserved.length, 50, 'exactly 50 StockReserved in the event store');
  assert.equal(events.length, 51);
  assert.equal(events.at(-1)?.data.stock, 0);
  // The stored reservations are exactly those answered 201.
  assert.deepEqual(
    new Set(reserved.map((e) => e.data.reservationId)),
    new Set(created.map((r) => r.body.reservationId)),
  );
});

test('200 concurrent reservations on one product through two processes never oversell and lose no acknowledged one', async (t) => {
  const id = await create(one, 50);
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      (i % 2 === 0 ? one : two).request(
        'POST',
        `/products/${id}/stock/reservations`,
        { quantity: 1, reservationId: `r-${i}` },
        withKey(),
      ),
    ),
  );
  const created = answers.filter((r) => r.status === 201);
  const codes = new Map<string, number>();
  for (const r of answers) {
    const code = r.status === 201 ? '201' : `${r.status} ${String(r.body?.type).split('/').pop()}`;
    codes.set(code, (codes.get(code) ?? 0) + 1);
    if (r.status !== 201) {
      assert.equal(r.status, 409, r.text);
      assert.match(r.body.type as string, /\/(insufficient-stock|version-conflict)$/);
    }
  }
  t.diagnostic(JSON.stringify([...codes]));
  assert.ok(created.length <= 50 && created.length > 0, `${created.length} reservations succeeded`);
  const events = (await storedEvents(sql, [id])).get(id) ?? [];
  const reserved = events.filter((e) => e.type === 'StockReserved');
  assert.equal(reserved.length, created.length, 'the stored reservations are the acknowledged ones');
  assert.deepEqual(
    new Set(reserved.map((e) => e.data.reservationId)),
    new Set(created.map((r) => r.body.reservationId)),
  );
  assert.equal(events.at(-1)?.data.stock, 50 - created.length);
});

test('a process whose actor holds a stale state answers from the event store, not from its stale copy', async () => {
  // Insufficient stock: `one` saw the product sold out, then `two` restocked it.
  const id = await create(one, 0);
  const soldOut = await one.request('POST', `/products/${id}/stock/reservations`, { quantity: 1 }, withKey());
  assert.equal(soldOut.status, 409, soldOut.text);
  assert.equal((await two.request('POST', `/products/${id}/stock/restock`, { quantity: 5 }, withKey())).status, 200);
  const reserved = await one.request('POST', `/products/${id}/stock/reservations`, { quantity: 1 }, withKey());
  assert.equal(reserved.status, 201, `the restock by the other process counts: ${reserved.text}`);
  assert.deepEqual(reserved.body, { id, version: 3, stock: 4, reservationId: reserved.body.reservationId });

  // If-Match: the version another process wrote is the current one.
  assert.equal((await two.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, withKey())).status, 200);
  const matched = await one.request(
    'PUT',
    `/products/${id}/price`,
    { amount: 999, currency: 'EUR' },
    { 'if-match': '"4"' },
  );
  assert.equal(matched.status, 200, `If-Match "4" is current: ${matched.text}`);
  assert.deepEqual(matched.body, { id, version: 5 });
  assert.equal((await two.request('POST', `/products/${id}/stock/restock`, { quantity: 1 }, withKey())).status, 200);
  const mismatch = await one.request(
    'PUT',
    `/products/${id}/price`,
    { amount: 998, currency: 'EUR' },
    { 'if-match': '"5"' },
  );
  assert.equal(mismatch.status, 412, mismatch.text);
  assert.equal(mismatch.body.currentVersion, 6, 'the 412 names the current version, not a stale one');

  // No-op: the price the other process set is the current one.
  assert.equal((await two.request('PUT', `/products/${id}/price`, { amount: 500, currency: 'EUR' })).status, 200);
  const same = await one.request('PUT', `/products/${id}/price`, { amount: 500, currency: 'EUR' });
  assert.equal(same.status, 200, same.text);
  assert.deepEqual(same.body, { id, version: 7 }, 'an unchanged price answers the current version');

  // Not found: `one` answered 404 for an id, then `two` created it.
  const later = randomUUID();
  assert.equal((await one.request('PATCH', `/products/${later}`, { name: 'early' })).status, 404);
  const created = await two.request('POST', '/products', {
    id: later,
    sku: uniqueName('sku'),
    name: 'Late',
    price: { amount: 100, currency: 'EUR' },
  });
  assert.equal(created.status, 201, created.text);
  const renamed = await one.request('PATCH', `/products/${later}`, { name: 'Found' });
  assert.equal(renamed.status, 200, `the product exists: ${renamed.text}`);

  // Discontinued by the other process: a change is refused as such, not applied.
  assert.equal((await two.request('DELETE', `/products/${later}`)).status, 200);
  const refused = await one.request('PATCH', `/products/${later}`, { name: 'Again' });
  assert.equal(refused.status, 409, refused.text);
  assert.ok((refused.body.type as string).endsWith('/product-discontinued'));
});

test('one Idempotency-Key sent concurrently to both processes is committed once; the other answer is 409 or a replay', async () => {
  for (let round = 0; round < 5; round++) {
    const id = await create(one, 100);
    const key = uniqueName('key');
    const answers = await Promise.all(
      [one, two].map((svc) =>
        svc.request(
          'POST',
          `/products/${id}/stock/reservations`,
          { quantity: 1, reservationId: key },
          { 'idempotency-key': key },
        ),
      ),
    );
    const originals = answers.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') !== 'true');
    assert.equal(originals.length, 1, answers.map((r) => `${r.status} ${r.text}`).join(' | '));
    for (const other of answers.filter((r) => r !== originals[0])) {
      if (other.status === 409)
        assert.ok((other.body.type as string).endsWith('/idempotency-key-in-flight'), other.text);
      else {
        assert.equal(other.headers.get('idempotent-replayed'), 'true', other.text);
        assert.deepEqual(other.body, originals[0]?.body);
      }
    }
    const events = (await storedEvents(sql, [id])).get(id) ?? [];
    assert.equal(events.filter((e) => e.type === 'StockReserved').length, 1);
  }
});

test('concurrent creates with one SKU while the workers are busy: exactly one 201, the others 409 sku-taken', async (t) => {
  const busyIds: string[] = [];
  for (let i = 0; i < 8; i++) busyIds.push(await create(one, 0));
  const outcomes: string[] = [];
  for (let round = 0; round < 5; round++) {
    const sku = uniqueName('shared-sku');
    const ids = Array.from({ length: 12 }, () => randomUUID());
    // Other products keep the workers' group commits busy, so the creates queue up and share batches.
    const busy = Array.from({ length: 80 }, (_, i) =>
      one.request('POST', `/products/${busyIds[i % busyIds.length]}/stock/restock`, { quantity: 1 }, withKey()),
    );
    const creates = ids.map((id) =>
      one.request('POST', '/products', { id, sku, name: 'Same SKU', price: { amount: 100, currency: 'EUR' } }),
    );
    const [answers] = await Promise.all([Promise.all(creates), Promise.all(busy)]);
    outcomes.push(answers.map((r) => r.status).join(','));
    const winners = answers.filter((r) => r.status === 201);
    assert.equal(
      winners.length,
      1,
      `one create wins the SKU: ${answers.map((r) => `${r.status} ${r.text}`).join(' | ')}`,
    );
    for (const r of answers.filter((a) => a.status !== 201)) {
      assert.equal(r.status, 409, r.text);
      assert.ok((r.body.type as string).endsWith('/sku-taken'), r.text);
    }
    const stored = await storedEvents(sql, ids);
    const created = [...stored.values()].filter((events) => events.length > 0);
    assert.equal(created.length, 1, 'one product stored with this SKU');
    const [owner] = await sql`select aggregate_id from product_skus where sku = ${sku}`;
    assert.equal(owner?.aggregate_id, winners[0]?.body.id);
  }
  t.diagnostic(outcomes.join(' / '));
});

test('two command-service processes writing the same 20 products store no version twice and lose no acknowledged write', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await create(i % 2 === 0 ? one : two, 1000));

  interface Sent {
    id: string;
    kind: 'restock' | 'reserve';
    quantity: number;
    correlation: string;
    reservationId?: string;
    via: 1 | 2;
  }
  const acknowledged: { sent: Sent; reply: Reply }[] = [];
  const statuses = new Map<string, number>();
  const total = 400;
  let next = 0;
  // 16 clients, each alternating randomly between the two processes.
  const client = async () => {
    while (next < total) {
      const n = next++;
      const id = ids[Math.floor(Math.random() * ids.length)] as string;
      const via = Math.random() < 0.5 ? 1 : 2;
      const svc = via === 1 ? one : two;
      const kind = Math.random() < 0.5 ? 'restock' : 'reserve';
      const quantity = 1 + Math.floor(Math.random() * 3);
      const correlation = `${uniqueName('c')}-${n}`;
      const sent: Sent = { id, kind, quantity, correlation, via };
      let reply: Reply;
      if (kind === 'restock') {
        reply = await svc.request(
          'POST',
          `/products/${id}/stock/restock`,
          { quantity },
          { 'x-correlation-id': correlation, 'idempotency-key': correlation },
        );
      } else {
        sent.reservationId = `res-${n}`;
        reply = await svc.request(
          'POST',
          `/products/${id}/stock/reservations`,
          { quantity, reservationId: sent.reservationId },
          { 'x-correlation-id': correlation, 'idempotency-key': correlation },
        );
      }
      const label = reply.status === 409 ? `409 ${String(reply.body?.type).split('/').pop()}` : String(reply.status);
      statuses.set(label, (statuses.get(label) ?? 0) + 1);
      if (reply.status >= 200 && reply.status < 300) acknowledged.push({ sent, reply });
      else assert.ok([409, 503].includes(reply.status), `unexpected answer ${reply.status}: ${reply.text}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, client));

  // Each process keeps its actors' state between commands, so every switch of writer on a stream
  // means the new writer held a stale version and had to lose a version conflict, reload and retry.
  const writer = new Map(acknowledged.map(({ sent, reply }) => [`${sent.id}/${reply.body.version}`, sent.via]));
  let switches = 0;
  for (const id of ids) {
    for (let v = 3; writer.has(`${id}/${v}`); v++)
      if (writer.get(`${id}/${v}`) !== writer.get(`${id}/${v - 1}`)) switches++;
  }
  t.diagnostic(`answers: ${JSON.stringify([...statuses])}; ${switches} changes of writer within streams`);
  assert.ok(switches > 20, 'both processes wrote the same streams, interleaved');
  const stored = await storedEvents(sql, ids);
  assertContiguous(stored);
  for (const { sent, reply } of acknowledged) {
    const event = stored.get(sent.id)?.[(reply.body.version as number) - 1];
    assert.ok(event, `acknowledged ${sent.kind} of ${sent.id} at version ${reply.body.version} is stored`);
    assert.equal(event.type, sent.kind === 'restock' ? 'ProductRestocked' : 'StockReserved');
    assert.equal(event.metadata.correlationId, sent.correlation, 'the stored event is the acknowledged one');
    assert.equal(event.data.quantity, sent.quantity);
    assert.equal(event.data.stock, reply.body.stock);
    if (sent.reservationId) assert.equal(event.data.reservationId, sent.reservationId);
  }
  // Nothing is stored that was not acknowledged, except writes whose answer was lost (none here).
  const appended = [...stored.values()].reduce((n, events) => n + events.length - 1, 0);
  assert.equal(appended, acknowledged.length, `every stored write was acknowledged (${JSON.stringify([...statuses])})`);
  // Most writes get through: the retry on a version conflict is what makes two writers work.
  assert.ok(
    acknowledged.length >= total * 0.8,
    `acknowledged ${acknowledged.length} of ${total}: ${JSON.stringify([...statuses])}`,
  );
  // Stock never went negative and each stream's stock follows from its events.
  for (const [id, events] of stored) {
    let stock = 1000;
    for (const e of events.slice(1)) {
      stock += e.type === 'ProductRestocked' ? (e.data.quantity as number) : -(e.data.quantity as number);
      assert.equal(e.data.stock, stock, `${id} v${e.version} stock`);
      assert.ok(stock >= 0);
    }
  }
});

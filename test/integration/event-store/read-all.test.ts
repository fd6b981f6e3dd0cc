import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { migrate } from '../../../src/infra/event-store/migrations.ts';
import { type LogCursor, type LoggedEvent, readAll } from '../../../src/infra/event-store/read.ts';
import { sqlClient } from '../../support/env.ts';

/**
 * Reading the whole log while appends run: a transaction that took a lower position but commits
 * after an older transaction's higher position must still be read (paging by position alone
 * skipped it).
 */

const sql = sqlClient();
before(() => migrate(sql));
after(() => sql.end({ timeout: 5 }));

const insertEvent = (tx: typeof sql, id: string) => tx`
  insert into events (event_id, aggregate_id, version, type, schema_version, data, metadata, occurred_at)
  values (${randomUUID()}, ${id}, 1, 'ProductDiscontinued', 1, '{}', '{}', now())`;

/** Reads on from `cursor` to the current end of what is readable, one event a page. */
async function readOn(cursor: LogCursor): Promise<{ read: LoggedEvent[]; cursor: LogCursor }> {
  const read: LoggedEvent[] = [];
  for (;;) {
    const page = await readAll(sql, cursor, 1);
    const last = page.at(-1);
    if (!last) return { read, cursor };
    read.push(...page);
    cursor = { transactionId: last.transactionId, position: last.position };
  }
}

test('an event that commits after a higher position was read is still read, in commit order', async () => {
  const older = await sql.reserve();
  const younger = await sql.reserve();
  const [a, b] = [randomUUID(), randomUUID()];
  try {
    await older`begin`;
    // The older transaction takes its id first, by writing something else...
    const [{ xid } = { xid: '0' }] = await older`select pg_current_xact_id()::text as xid`;
    await younger`begin`;
    await younger`select pg_current_xact_id()`;
    // ...then the younger one takes the lower position, and the older the higher one and commits.
    await insertEvent(younger as unknown as typeof sql, b);
    await insertEvent(older as unknown as typeof sql, a);
    await older`commit`;
    // A reader that starts just before the older transaction (others may append meanwhile: they are filtered out).
    const first = await readOn({ transactionId: xid as string, position: 0 });
    const mine = (events: LoggedEvent[]) => events.map((e) => e.aggregateId).filter((id) => id === a || id === b);
    assert.deepEqual(mine(first.read), [a], 'the committed older transaction is read, the open one is not');
    await younger`commit`;
    const second = await readOn(first.cursor);
    assert.deepEqual(mine(second.read), [b], 'the lower position that committed later is read next, not skipped');
    const [posA, posB] = [first.read.find((e) => e.aggregateId === a), second.read.find((e) => e.aggregateId === b)];
    assert.ok((posA?.position ?? 0) > (posB?.position ?? 0), 'the event read second has the lower position');
  } finally {
    await older`rollback`.catch(() => {});
    await younger`rollback`.catch(() => {});
    older.release();
    younger.release();
  }
});

test('the whole log comes in numeric (transaction id, position) order, page after page, none skipped', async () => {
  const [{ n } = { n: 0 }] = await sql`
    select count(*)::int as n from events where transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;
  const read: LoggedEvent[] = [];
  let cursor: LogCursor = { transactionId: '0', position: 0 };
  for (;;) {
    const page = await readAll(sql, cursor, 5000);
    read.push(...page);
    const last = page.at(-1);
    if (!last || page.length < 5000) break;
    cursor = { transactionId: last.transactionId, position: last.position };
  }
  assert.ok(read.length >= (n as number), `read ${read.length} of the ${n} events visible before reading`);
  for (let i = 1; i < read.length; i++) {
    const [a, b] = [read[i - 1] as LoggedEvent, read[i] as LoggedEvent];
    const ordered =
      BigInt(a.transactionId) < BigInt(b.transactionId) ||
      (a.transactionId === b.transactionId && a.position < b.position);
    assert.ok(ordered, `(${a.transactionId}, ${a.position}) comes before (${b.transactionId}, ${b.position})`);
  }
});

import { LOG_START, type LogCursor, type LoggedEvent, readAll } from '../infra/event-store/read.ts';
import type { Sql } from '../infra/postgres.ts';

/** Events in the event store now: what a rebuild's progress is a percentage of. */
export async function countEvents(sql: Sql): Promise<number> {
  const [row] = await sql<{ count: string }[]>`select count(*)::text as count from events`;
  return Number(row?.count ?? 0);
}

/**
 * The id the next transaction will get (`xmax` of a snapshot taken now): every transaction that
 * committed before this call, anywhere in the cluster, has a lower id.
 */
export async function nextTransactionId(sql: Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select pg_snapshot_xmax(pg_current_snapshot())::text as id`;
  if (!row) throw new Error('pg_current_snapshot() returned nothing');
  return row.id;
}

/** Whether every transaction with an id below `id` has ended (committed or rolled back). */
async function finishedBelow(sql: Sql, id: string): Promise<boolean> {
  const [row] = await sql<{ finished: boolean }[]>`
    select pg_snapshot_xmin(pg_current_snapshot()) >= ${id}::xid8 as finished`;
  return row?.finished === true;
}

export class HorizonTimeoutError extends Error {
  constructor(id: string, waitedMs: number) {
    super(
      `a PostgreSQL transaction with an id below ${id} was still open after ${waitedMs} ms; ` +
        'the events it may append cannot be read yet (see pg_stat_activity for old backend_xid)',
    );
    this.name = 'HorizonTimeoutError';
  }
}

export interface ReadLogOptions {
  pageSize: number;
  /**
   * A `nextTransactionId` taken before the read: reading goes on until every transaction below it
   * has ended, so each event committed before that call is read, including one whose transaction
   * was still open while the pages before it were read.
   */
  through: string;
  /** How long to wait for such a transaction before giving up (default 60 s). */
  horizonTimeoutMs?: number;
  /** How often to look again meanwhile (default 50 ms). */
  pollMs?: number;
}

/**
 * The whole event log in commit order, a page at a time (`readAll`: events of transactions older
 * than every one still running, by transaction id and position). `readAll` alone ends at its
 * visibility horizon, which an open transaction holds back: a reader that stops at the first short
 * page may miss an event committed before it started. This one ends only at a short page read
 * once every transaction below `through` has ended. The next page is fetched while the caller
 * works on the current one.
 */
export async function* readLogPages(sql: Sql, options: ReadLogOptions): AsyncGenerator<LoggedEvent[]> {
  const { pageSize, through, horizonTimeoutMs = 60_000, pollMs = 50 } = options;
  let after: LogCursor = LOG_START;
  let settled = false;
  let waitingSince: number | undefined;
  let next = readAll(sql, after, pageSize);
  for (;;) {
    const page = await next;
    const last = page.at(-1);
    if (last) after = { transactionId: last.transactionId, position: last.position };
    if (page.length < pageSize) {
      if (settled) {
        if (page.length > 0) yield page;
        return;
      }
      settled = await finishedBelow(sql, through);
      if (!settled) {
        waitingSince ??= Date.now();
        const waited = Date.now() - waitingSince;
        if (waited > horizonTimeoutMs) throw new HorizonTimeoutError(through, waited);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    }
    next = readAll(sql, after, pageSize);
    // A rejected prefetch the caller never awaits (it stopped early) must not go unhandled.
    next.catch(() => {});
    if (page.length > 0) yield page;
  }
}

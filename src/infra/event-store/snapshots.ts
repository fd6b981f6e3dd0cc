import type { Sql } from '../postgres.ts';

export async function readSnapshot(
  sql: Sql,
  aggregateId: string,
): Promise<{ version: number; state: unknown } | undefined> {
  const [row] = await sql`select version, state from snapshots where aggregate_id = ${aggregateId}`;
  return row ? { version: row.version as number, state: row.state } : undefined;
}

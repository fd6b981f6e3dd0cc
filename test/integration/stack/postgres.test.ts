import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sqlClient, uniqueName } from '../../support/env.ts';

const sql = sqlClient();
after(() => sql.end());

test('PostgreSQL 15 of the stack stores and returns rows', async () => {
  const table = uniqueName('stack_check').replaceAll('-', '_');
  await sql`create table ${sql(table)} (id int primary key, label text not null)`;
  try {
    await sql`insert into ${sql(table)} ${sql([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ])}`;
    const rows = await sql`select id, label from ${sql(table)} order by id`;
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [
        { id: 1, label: 'one' },
        { id: 2, label: 'two' },
      ],
    );
    const [version] = await sql`show server_version_num`;
    assert.match(String(version?.server_version_num), /^15/);
  } finally {
    await sql`drop table ${sql(table)}`;
  }
});

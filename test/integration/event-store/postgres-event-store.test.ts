import { after, before } from 'node:test';
import { postgresEventStore } from '../../../src/infra/event-store/event-store.ts';
import { migrate } from '../../../src/infra/event-store/migrations.ts';
import { eventStoreContract } from '../../contract/event-store.contract.ts';
import { sqlClient } from '../../support/env.ts';

const sql = sqlClient();
before(() => migrate(sql));
after(() => sql.end());

eventStoreContract('PostgreSQL', () => postgresEventStore(sql));

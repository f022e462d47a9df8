import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { expect, inject, it } from 'vitest';
import type { Database } from '../src/store/schema.js';
import { roomList } from '../src/store/sql-admin.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { freshDatabase } from '../../../test/pg.js';
import { adminContract } from './store-contract-admin.js';
import { storeContract } from './store-contract.js';
import { changesContract } from './store-contract-changes.js';
import { moderationContract } from './store-contract-moderation.js';
import { outboxContract } from './store-contract-outbox.js';
import { searchContract } from './store-contract-search.js';

// The same contract as SQLite, against a real PostgreSQL server (a fresh database per test).
const openPostgreSql = async () => {
  const url = await freshDatabase(inject('pgUrl'));
  return {
    store: await openPostgresStore({ url }),
    reopen: () => openPostgresStore({ url }),
    cleanup: async () => {},
  };
};
storeContract('PostgreSQL', openPostgreSql);
changesContract('PostgreSQL', openPostgreSql);
searchContract('PostgreSQL', openPostgreSql);
adminContract('PostgreSQL', openPostgreSql);
outboxContract('PostgreSQL', openPostgreSql);
moderationContract('PostgreSQL', openPostgreSql);


it('lists rooms for the admin API along the primary key at 10,000 rooms, never sorting them all', async () => {
  const url = await freshDatabase(inject('pgUrl'));
  const store = await openPostgresStore({ url });
  await store.close();
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await pool.query(`insert into rooms (id, title, visibility, persist, direct, owner, created_at)
      select 'room' || lpad(i::text, 5, '0'), case when i % 1000 = 7 then 'needle' end, 'public', 1, 0, null, 1 from generate_series(0, 9999) i`);
    await pool.query('analyze rooms');
    for (const query of [{ limit: 201 }, { limit: 201, after: 'room05000' }, { limit: 201, after: 'room05000', q: 'needle' }]) {
      const c = roomList(db, 'postgres', query).compile();
      const plan = (await pool.query(`explain ${c.sql}`, [...c.parameters])).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan using rooms_pkey/);
      expect(plan).not.toMatch(/Sort/);
    }
  } finally {
    await db.destroy();
  }
});

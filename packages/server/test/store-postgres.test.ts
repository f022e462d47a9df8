import { inject } from 'vitest';
import { openPostgresStore } from '../src/store/postgres.js';
import { freshDatabase } from '../../../test/pg.js';
import { storeContract } from './store-contract.js';

// The same contract as SQLite, against a real PostgreSQL server (a fresh database per test).
storeContract('PostgreSQL', async () => {
  const url = await freshDatabase(inject('pgUrl'));
  return {
    store: await openPostgresStore({ url }),
    reopen: () => openPostgresStore({ url }),
    cleanup: async () => {},
  };
});

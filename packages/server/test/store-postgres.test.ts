import { inject } from 'vitest';
import { openPostgresStore } from '../src/store/postgres.js';
import { freshDatabase } from '../../../test/pg.js';
import { storeContract } from './store-contract.js';
import { changesContract } from './store-contract-changes.js';
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


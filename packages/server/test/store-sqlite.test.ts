import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import { removeDir, tempDir } from './helpers.js';
import { storeContract } from './store-contract.js';

storeContract('SQLite', async () => {
  const dataDir = tempDir('roomcast-store-');
  return {
    store: await openSqliteStore({ dataDir, sync: 'normal' }),
    reopen: () => openSqliteStore({ dataDir, sync: 'normal' }),
    cleanup: async () => removeDir(dataDir),
  };
});

it('creates the data directory and its database file (sync: full)', async () => {
  const parent = tempDir('roomcast-store-');
  const dataDir = join(parent, 'nested', 'data');
  try {
    const store = await openSqliteStore({ dataDir, sync: 'full' });
    await store.ping();
    await store.close();
    expect(existsSync(join(dataDir, 'roomcast.db'))).toBe(true);
  } finally {
    removeDir(parent);
  }
});

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../src/store/schema.js';
import { roomList } from '../src/store/sql-admin.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { removeDir, tempDir } from './helpers.js';
import { adminContract } from './store-contract-admin.js';
import { storeContract } from './store-contract.js';
import { changesContract } from './store-contract-changes.js';
import { moderationContract } from './store-contract-moderation.js';
import { outboxContract } from './store-contract-outbox.js';
import { searchContract } from './store-contract-search.js';

const openSqlite = async () => {
  const dataDir = tempDir('roomcast-store-');
  return {
    store: await openSqliteStore({ dataDir, sync: 'normal' }),
    reopen: () => openSqliteStore({ dataDir, sync: 'normal' }),
    cleanup: async () => removeDir(dataDir),
  };
};
storeContract('SQLite', openSqlite);
changesContract('SQLite', openSqlite);
searchContract('SQLite', openSqlite);
adminContract('SQLite', openSqlite);
outboxContract('SQLite', openSqlite);
moderationContract('SQLite', openSqlite);


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

/** The WAL header's checkpoint sequence number: SQLite adds one each time the log starts over. */
function walRestarts(wal: string): number {
  const fd = openSync(wal, 'r');
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 ? head.readUInt32BE(12) : 0;
  } finally {
    closeSync(fd);
  }
}

it('checkpoints on its own thread, and the WAL starts over under steady writes', async () => {
  const dataDir = tempDir('roomcast-store-');
  const errors: Error[] = [];
  // Small numbers so the test sees several rounds: a pass every 10 ms, restart from 64 pages.
  const open = () => openSqliteStore({ dataDir, sync: 'normal', checkpoints: { intervalMs: 10, resetFrames: 64 }, onCheckpointError: (e) => errors.push(e) });
  try {
    const store = await open();
    await store.createRoom({ id: 'r', title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: null, createdAt: 1, retention: null, receipts: true });
    const db = join(dataDir, 'roomcast.db');
    const wal = `${db}-wal`;
    const text = 'x'.repeat(1000);
    let written = 0;
    const writeRound = () =>
      Promise.all(Array.from({ length: 50 }, () => store.append({ room: 'r', persist: true, from: { id: 'u', name: 'U' }, msgId: `m${written++}`, text, ts: written })));
    await writeRound();
    const first = walRestarts(wal);
    // Writes never stop, as under load: the log must still start over, again and again.
    await vi.waitFor(
      async () => {
        await writeRound();
        expect(walRestarts(wal) - first).toBeGreaterThanOrEqual(3);
      },
      { timeout: 20_000, interval: 1 },
    );
    expect(statSync(db).size).toBeGreaterThan(1_000_000);
    const all = await store.messagesAfter('r', 0, 100_000);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: written }, (_, i) => i + 1));
    await store.close();
    const again = await open();
    expect((await again.getRoom('r'))?.lastSeq).toBe(written);
    await again.close();
    expect(errors).toEqual([]);
  } finally {
    removeDir(dataDir);
  }
});

it('lists rooms for the admin API along the primary key, never sorting every room', async () => {
  const dataDir = tempDir('roomcast-store-');
  try {
    const store = await openSqliteStore({ dataDir, sync: 'normal' });
    await store.close();
    const raw = new BetterSqlite3(join(dataDir, 'roomcast.db'), { readonly: true });
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    try {
      for (const query of [{ limit: 201 }, { limit: 201, after: 'room05000' }, { limit: 201, after: 'room05000', q: 'needle' }]) {
        const c = roomList(db, 'sqlite', query).compile();
        const plan = (raw.prepare(`explain query plan ${c.sql}`).all(...c.parameters) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
        expect(plan).toMatch(/USING INDEX sqlite_autoindex_rooms_1|USING PRIMARY KEY/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      }
    } finally {
      await db.destroy();
    }
  } finally {
    removeDir(dataDir);
  }
});

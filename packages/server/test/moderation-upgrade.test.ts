import BetterSqlite3 from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { openSqliteStore, sqliteFile } from '../src/store/sqlite.js';
import { removeDir, tempDir } from './helpers.js';

// A database made before moderation (no members.role, no rooms.slow_mode, no bans / mutes /
// slow_turns tables) opens upgraded: its members are members, its owner the owner, and bans,
// mutes and slow mode work on it.

let dir = '';
afterEach(() => removeDir(dir));

it('upgrades a database of the schema before moderation in place', async () => {
  dir = tempDir('roomcast-mod-upgrade-');
  const first = await openSqliteStore({ dataDir: dir, sync: 'normal' });
  await first.upsertUser({ id: 'u-a', name: 'Alice' });
  await first.upsertUser({ id: 'u-b', name: 'Bob' });
  await first.createRoom({ id: 'old', title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: 'u-a', createdAt: 1, retention: null, receipts: true });
  for (const u of ['u-a', 'u-b']) await first.addMember('old', u, null, 1);
  await first.close();
  // Back to the schema before moderation.
  const db = new BetterSqlite3(sqliteFile(dir));
  db.exec('drop table bans; drop table mutes; drop table slow_turns; alter table members drop column role; alter table rooms drop column slow_mode;');
  db.close();

  const store = await openSqliteStore({ dataDir: dir, sync: 'normal' });
  try {
    expect((await store.listMembers('old')).map((m) => [m.id, m.role])).toEqual([
      ['u-a', 'owner'],
      ['u-b', 'member'],
    ]);
    expect((await store.getRoom('old'))?.slowMode).toBeUndefined();
    expect(await store.setMemberRole('old', 'u-b', 'admin')).toBe(true);
    await store.putBan({ room: 'old', user: 'u-c', until: null, reason: null, by: 'u-a', at: 2 });
    await store.putMute({ room: 'old', user: 'u-b', until: null, by: 'u-a', at: 2 });
    expect(await store.postGate('old', 'u-b', 3)).toEqual({ role: 'admin', mutedUntil: null, slowMode: 0 });
    expect((await store.updateRoom('old', { slowMode: 10 }))?.slowMode).toBe(10);
    expect(await store.getBan('old', 'u-c', 3)).toMatchObject({ by: 'u-a' });
  } finally {
    await store.close();
  }
});

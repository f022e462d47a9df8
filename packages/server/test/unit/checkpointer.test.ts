import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SQLite checkpoints on their own thread', () => {
  it('copies committed messages into the database file without an inline checkpoint', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-ckpt-'));
    dirs.push(dataDir);
    const errors: Error[] = [];
    const store = await openSqliteStore({ dataDir, sync: 'normal', onCheckpointError: (err) => errors.push(err) });
    await store.createRoom({ id: 'r', title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: null, createdAt: 1 });
    const file = join(dataDir, 'roomcast.db');
    const before = statSync(file).size;
    const text = 'x'.repeat(1000);
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => store.append({ room: 'r', persist: true, from: { id: 'u', name: 'U' }, msgId: `m${i}`, text, ts: i })),
    );
    // The main connection never checkpoints now: only the thread can grow the database file.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 1_000_000), { timeout: 10_000, interval: 50 });
    expect((await store.messagesAfter('r', 0, 5000)).length).toBe(2000);
    await store.close();
    expect(errors).toEqual([]);
  });
});

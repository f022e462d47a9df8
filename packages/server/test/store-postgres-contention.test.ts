import { expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { openPostgresStore } from '../src/store/postgres.js';

// Three stores on one database (three nodes) append to the same few rooms at once. Rooms another
// node holds are skipped and retried rather than waited for; what must still hold: every append
// gets a seq, seqs of a room are 1..n without gaps or repeats, and the counters agree.

it('hands out unique gapless seqs when several nodes append to the same rooms at once', async () => {
  const url = await freshDatabase(inject('pgUrl'));
  const nodes = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url, timeoutMs: 2000 })));
  try {
    const rooms = ['h1', 'h2', 'h3'];
    for (const id of rooms) {
      await nodes[0]!.createRoom({ id, title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: null, createdAt: 1, retention: null, receipts: true });
    }
    const from = { id: 'u1', name: 'U' };
    await nodes[0]!.upsertUser(from);
    const results = await Promise.all(
      Array.from({ length: 600 }, (_, k) => nodes[k % 3]!.append({ room: rooms[k % rooms.length]!, persist: true, from, clientId: `c${k}`, msgId: `m${k}`, text: `t${k}`, ts: 1 })),
    );
    for (const room of rooms) {
      const seqs = results.filter((r) => r.room === room).map((r) => r.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect((await nodes[1]!.getRoom(room))?.lastSeq).toBe(200);
      expect((await nodes[2]!.messagesAfter(room, 0, 500)).map((m) => m.seq)).toEqual(seqs);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

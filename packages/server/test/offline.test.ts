import { describe, expect, it } from 'vitest';
import { removeDir, serversPerTest, tempDir, TestClient } from './helpers.js';

describe('offline users and restarts', () => {
  const startServer = serversPerTest();
  const start = (dataDir?: string) => startServer(dataDir ? { dataDir, ratePerSec: 0 } : { ratePerSec: 0 });

  it('a guest coming back with its token is the same user, and may change its name', async () => {
    const server = await start();
    const alice = await server.connect({ name: 'Alice' });
    const token = alice.welcome.guestToken as string;
    expect(token).toEqual(expect.any(String));
    await alice.close();
    const again = await server.connect({ guest: token });
    expect(again.welcome.user).toEqual({ id: alice.userId, name: 'Alice' });
    const renamed = await server.connect({ guest: token, name: 'Alicia' });
    expect(renamed.welcome.user).toEqual({ id: alice.userId, name: 'Alicia' });
    const forged = await TestClient.open(server.wsUrl, { guest: `${token.slice(0, -4)}AAAA` });
    expect((await forged.closed).code).toBe(4401);
  });

  it('shows unread counts in welcome and sends exactly the missed messages with since', async () => {
    const server = await start();
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'team' });
    await bob.ok('join', { room: 'team' });
    await alice.ok('send', { room: 'team', text: 'seen' });
    const seen = await bob.next('msg');
    await bob.ok('read', { room: 'team', seq: seen.seq });
    await bob.close();
    await alice.next('presence', (f) => f.event === 'leave');
    for (let i = 1; i <= 4; i++) await alice.ok('send', { room: 'team', text: `missed ${i}` });

    const back = await server.connect({ guest: bob.welcome.guestToken as string });
    expect(back.welcome.rooms).toEqual([
      expect.objectContaining({ id: 'team', lastSeq: 5, readSeq: 1, unread: 4, online: 1 }),
    ]);
    const joined = await back.ok('join', { room: 'team', since: seen.seq });
    expect(joined.lastSeq).toBe(5);
    const missed = [];
    for (let i = 0; i < 4; i++) missed.push(await back.next('msg'));
    expect(missed.map((m) => m.text)).toEqual(['missed 1', 'missed 2', 'missed 3', 'missed 4']);
    expect(missed.map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    await back.barrier();
    expect(back.take('msg')).toEqual([]);
  });

  it('delivers a direct message to an offline user when they come back', async () => {
    const server = await start();
    const bob = await server.connect({ name: 'Bob' });
    const bobToken = bob.welcome.guestToken as string;
    await bob.close();
    const alice = await server.connect({ name: 'Alice' });
    const sent = await alice.ok('dm', { to: bob.userId, text: 'call me' });
    expect(sent.online).toBe(false);
    const back = await server.connect({ guest: bobToken });
    expect(back.welcome.rooms).toEqual([
      expect.objectContaining({ id: sent.room, direct: true, unread: 1, peer: { id: alice.userId, name: 'Alice' } }),
    ]);
    await back.ok('join', { room: sent.room, since: 0 });
    expect(await back.next('msg')).toMatchObject({ seq: 1, text: 'call me', from: { id: alice.userId } });
  });

  it('keeps rooms, history, seqs, guests and read cursors across a restart on the same data', async () => {
    const dataDir = tempDir();
    try {
      let server = await start(dataDir);
      const alice = await server.connect({ name: 'Alice' });
      await alice.ok('create', { room: 'durable', title: 'Durable' });
      const acks = [];
      for (let i = 1; i <= 5; i++) acks.push(await alice.ok('send', { room: 'durable', text: `d${i}`, id: `k${i}` }));
      const token = alice.welcome.guestToken as string;
      await server.close();

      server = await start(dataDir);
      const back = await server.connect({ guest: token });
      expect(back.userId).toBe(alice.userId);
      expect(back.welcome.rooms).toEqual([expect.objectContaining({ id: 'durable', title: 'Durable', lastSeq: 5, unread: 0 })]);
      const history = await back.ok('history', { room: 'durable' });
      expect(history.messages.map((m: { seq: number; text: string; ts: number }) => [m.seq, m.text, m.ts])).toEqual(
        acks.map((a, i) => [a.seq, `d${i + 1}`, a.ts]),
      );
      // Seqs continue without a gap, and idempotency keys survive the restart.
      expect((await back.ok('send', { room: 'durable', text: 'd6' })).seq).toBe(6);
      expect(await back.ok('send', { room: 'durable', text: 'd5', id: 'k5' })).toMatchObject({ seq: 5, duplicate: true });
    } finally {
      removeDir(dataDir);
    }
  });
});

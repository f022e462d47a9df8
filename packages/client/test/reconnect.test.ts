import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '@roomcast/protocol';
import { mintToken } from '../../server/src/auth/mint.js';
import type { RoomcastClient } from '../src/client.js';
import { collect, connect, nextEvent, removeDir, startTestServer, tempDir, whenState, type TestServer } from './helpers.js';

// Reconnect and resume against real servers: connections closed by the server, a restart on
// the same data, sends in flight when a connection dies, expired tokens.

describe('reconnect and resume', () => {
  const servers: TestServer[] = [];
  const clients: RoomcastClient[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) removeDir(d);
  });
  const serve = async (options: Parameters<typeof startTestServer>[0] = {}) => {
    const s = await startTestServer(options);
    servers.push(s);
    return s;
  };
  /** Closes the user's connections from the server side, as the server does to a slow consumer. */
  const kick = (server: TestServer, userId: string, code: number = CloseCode.TryAgainLater) => {
    for (const s of server.core.registry.sessions) if (s.user.id === userId) s.conn.close(code, 'test: go away');
  };

  it('resumes a room after the server closed the connection: the missed messages arrive once, in order', async () => {
    const server = await serve();
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const room = await alice.create();
    const seen = collect(await bob.join(room.id));
    await room.send('before');
    await seen.until(1);
    const bobId = bob.user?.id as string;
    const dropped = nextEvent(bob, 'state', (s) => s.state === 'connecting');
    kick(server, bobId);
    expect(await dropped).toMatchObject({ code: 1013 });
    for (let i = 1; i <= 5; i++) await room.send(`missed ${i}`);
    await whenState(bob, 'connected');
    await room.send('after');
    const got = await seen.until(7);
    expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(got.map((m) => m.text)).toEqual(['before', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'after']);
    expect(bob.stats.reconnects).toBe(1);
    expect(bob.user?.id).toBe(bobId); // the guest token from welcome brought the same user back
  });

  it('survives a server restart on the same data: queued sends go out once, members resume', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await serve({ dataDir });
    const url = first.wsUrl;
    const alice = await connect(url, { name: 'Alice' }, clients);
    const bob = await connect(url, { name: 'Bob' }, clients);
    const aRoom = await alice.create({ room: 'kept' });
    const aSeen = collect(aRoom);
    const bSeen = collect(await bob.join('kept'));
    await aRoom.send('one');
    const down = Promise.all([alice, bob].map((c) => nextEvent(c, 'state', (s) => s.state === 'connecting')));
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    expect((await down).map((s) => s.code)).toEqual([1001, 1001]);
    // Offline: these wait in Alice's outbox.
    const queued = [aRoom.send('two'), aRoom.send('three')];
    const second = await serve({ dataDir, port: first.port });
    expect(second.wsUrl).toBe(url);
    await Promise.all([whenState(alice, 'connected'), whenState(bob, 'connected')]);
    expect((await Promise.all(queued)).map((r) => r.seq)).toEqual([2, 3]);
    for (const seen of [aSeen, bSeen]) {
      expect((await seen.until(3)).map((m) => [m.seq, m.text])).toEqual([
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
      ]);
    }
    const stored = await aRoom.history();
    expect(stored.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });

  it('stores each send exactly once, in order, when the connection dies with sends in flight', async () => {
    const server = await serve({ ratePerSec: 0 });
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const room = await alice.create();
    const bSeen = collect(await bob.join(room.id));
    const texts = Array.from({ length: 40 }, (_, i) => `n${i}`);
    let firstAck!: () => void;
    const acked = new Promise<void>((resolve) => (firstAck = resolve));
    const sends = texts.map((t) => room.send(t).then((r) => (firstAck(), r)));
    await acked;
    // Cut it without a goodbye while the rest is in flight or unanswered.
    for (const s of server.core.registry.sessions) if (s.user.id === alice.user?.id) (s.conn as unknown as { terminate(): void }).terminate();
    const results = await Promise.all(sends);
    expect(results.map((r) => r.seq)).toEqual(texts.map((_, i) => i + 1));
    const got = await bSeen.until(40);
    expect(got.map((m) => m.text)).toEqual(texts);
    const history = await room.history({ limit: 100 });
    expect(history.messages.map((m) => m.text)).toEqual(texts);
    expect(new Set(history.messages.map((m) => m.id)).size).toBe(40);
    expect(alice.stats.reconnects).toBe(1);
  });

  it('continues as a new guest when the server no longer accepts the saved guest token', async () => {
    const server = await serve();
    const errors: string[] = [];
    const c = connect(server.wsUrl, { guestToken: 'not-a-real-token', name: 'Zed' }, clients);
    const alice = await c;
    alice.on('error', (e) => errors.push(e.error.code));
    expect(alice.state).toBe('connected');
    expect(alice.user?.name).toBe('Zed');
    expect(alice.guestToken).not.toBe('not-a-real-token');
  });

  it('gets a fresh token from getToken when the server expires the current one (4401), and resumes', async () => {
    const secret = 'test-secret-that-is-at-least-32-characters-long';
    const server = await serve({ auth: 'jwt', jwtSecret: secret });
    let calls = 0;
    const getToken = async () => {
      calls++;
      // The first token lasts two seconds (whole seconds: one could end before a loaded machine has
      // connected); the server closes the connection with 4401 when it ends.
      return mintToken({ secret, sub: 'u_jwt_alice', name: 'Alice', ttlSec: calls === 1 ? 2 : 3600 });
    };
    const alice = await connect(server.wsUrl, { getToken }, clients);
    expect(alice.user).toEqual({ id: 'u_jwt_alice', name: 'Alice' });
    const room = await alice.create();
    const seen = collect(room);
    await room.send('before expiry');
    const expired = await nextEvent(alice, 'state', (s) => s.state === 'connecting', 8000);
    expect(expired.code).toBe(4401);
    await whenState(alice, 'connected');
    expect(calls).toBe(2);
    expect(alice.user?.id).toBe('u_jwt_alice');
    await room.send('after refresh');
    expect((await seen.until(2)).map((m) => m.text)).toEqual(['before expiry', 'after refresh']);
  });
});

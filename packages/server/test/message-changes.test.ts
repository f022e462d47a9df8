import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { startKit, type KitCluster } from './kit/cluster.js';
import { binaryFrame, serversPerTest, type Frame, type TestClient } from './helpers.js';

// Edits, unsends, reactions, replies, mentions and receipts over real sockets: what reaches the
// room, what a client that was away gets back, and what is left on disk after an unsend.

/** A client's view of a room: messages by seq, with every change event applied. */
class RoomState {
  readonly messages = new Map<number, Frame>();
  readonly seqs: number[] = [];

  apply(f: Frame, me: string): void {
    this.seqs.push(f.seq as number);
    if (f.op === 'msg') {
      this.messages.set(f.seq, { ...f, reactions: f.reactions ?? [] });
      return;
    }
    const m = this.messages.get(f.target);
    if (!m) return;
    if (f.op === 'edit' && !m.unsent && f.text !== undefined) Object.assign(m, { text: f.text, edited: f.editedAt });
    if (f.op === 'unsend') {
      for (const k of ['text', 'meta', 'binary', 'edited', 'replyTo', 'mentions']) delete m[k];
      Object.assign(m, { unsent: true, reactions: [] });
    }
    if (f.op === 'reaction') {
      const list = m.reactions as Array<{ emoji: string; count: number; me: boolean }>;
      const i = list.findIndex((r) => r.emoji === f.emoji);
      const me2 = f.user.id === me ? f.on : (list[i]?.me ?? false);
      if (f.count === 0) {
        if (i >= 0) list.splice(i, 1);
      } else if (i >= 0) list[i] = { emoji: f.emoji, count: f.count, me: me2 };
      else list.push({ emoji: f.emoji, count: f.count, me: me2 });
    }
  }

  /** What a user sees, without the fields that differ between live and stored copies. */
  view(): unknown[] {
    return [...this.messages.values()].map((m) => ({ seq: m.seq, text: m.text, unsent: m.unsent === true, edited: m.edited !== undefined, reactions: m.reactions }));
  }
}

const STREAM = new Set(['msg', 'edit', 'unsend', 'reaction']);

/** Stream events a client received for a room until its seq `upTo`, in arrival order. */
async function streamUntil(c: TestClient, room: string, upTo: number): Promise<Frame[]> {
  const out: Frame[] = [];
  while (out.at(-1)?.seq !== upTo) out.push(await c.next(undefined, (f) => STREAM.has(String(f.op)) && f.room === room));
  return out;
}

describe('message changes over sockets', () => {
  const start = serversPerTest();

  async function lobby(server: Awaited<ReturnType<typeof start>>) {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'lobby' });
    await bob.ok('join', { room: 'lobby' });
    await alice.next('presence');
    return { alice, bob };
  }

  it('a member away during an edit, an unsend and a reaction ends, after join {since}, where a member who stayed did', async () => {
    const server = await start();
    const { alice, bob } = await lobby(server);
    const carol = await server.connect({ name: 'Carol' });
    await carol.ok('join', { room: 'lobby' });
    const online = new RoomState();
    const away = new RoomState();
    await alice.ok('send', { room: 'lobby', text: 'one' });
    await alice.ok('send', { room: 'lobby', text: 'two' });
    for (const f of await streamUntil(bob, 'lobby', 2)) away.apply(f, bob.userId);
    for (const f of await streamUntil(carol, 'lobby', 2)) online.apply(f, carol.userId);
    await bob.close();

    await alice.ok('edit', { room: 'lobby', seq: 1, text: 'one, edited' });
    await carol.ok('react', { room: 'lobby', seq: 1, emoji: '👍' });
    await alice.ok('react', { room: 'lobby', seq: 1, emoji: '👍' });
    await alice.ok('unsend', { room: 'lobby', seq: 2 });
    await alice.ok('send', { room: 'lobby', text: 'three', replyTo: 2 });
    const last = await alice.ok('react', { room: 'lobby', seq: 7, emoji: '🎉' });
    for (const f of await streamUntil(carol, 'lobby', last.seq)) online.apply(f, carol.userId);

    const back = await server.connect({ guest: bob.welcome.guestToken as string });
    await back.ok('join', { room: 'lobby', since: 2 });
    const missed = await streamUntil(back, 'lobby', last.seq);
    expect(missed.map((f) => `${f.seq}:${f.op}`)).toEqual(['3:edit', '4:reaction', '5:reaction', '6:unsend', '7:msg', '8:reaction']);
    // The new message came in its current state: quoting an unsent one, with its reaction.
    expect(missed[4]).toMatchObject({ text: 'three', replyTo: { seq: 2, unsent: true }, reactions: [{ emoji: '🎉', count: 1, me: false }] });
    for (const f of missed) away.apply(f, bob.userId);
    // Bob gave no reaction, so his view equals Carol's but for `me`.
    const asBob = (v: unknown[]) => JSON.parse(JSON.stringify(v).replaceAll('"me":true', '"me":false')) as unknown[];
    expect(asBob(away.view())).toEqual(asBob(online.view()));
    expect(away.view()).toEqual([
      { seq: 1, text: 'one, edited', unsent: false, edited: true, reactions: [{ emoji: '👍', count: 2, me: false }] },
      { seq: 2, text: undefined, unsent: true, edited: false, reactions: [] },
      { seq: 7, text: 'three', unsent: false, edited: false, reactions: [{ emoji: '🎉', count: 1, me: false }] },
    ]);
    // Applying the backlog a second time changes nothing.
    const before = JSON.stringify(away.view());
    for (const f of missed) away.apply(f, bob.userId);
    expect(JSON.stringify(away.view())).toBe(before);
  });

  it('the changer\'s own connection gets the change event, before its reply', async () => {
    const server = await start();
    const { alice } = await lobby(server);
    await alice.ok('send', { room: 'lobby', text: 'typo' });
    alice.send({ op: 'edit', ref: 'e', room: 'lobby', seq: 1, text: 'fixed' });
    const first = await alice.next(undefined, (f) => f.op === 'edit' || (f.op === 'reply' && f.ref === 'e'));
    expect(first).toMatchObject({ op: 'edit', seq: 2, target: 1, text: 'fixed' });
    expect(await alice.next('reply', (f) => f.ref === 'e')).toMatchObject({ ok: true, seq: 2, target: 1 });
  });

  it('unsend: the owner may take anyone\'s message back, other members may not; a file\'s URL answers 404 after', async () => {
    const server = await start();
    const { alice, bob } = await lobby(server);
    const carol = await server.connect({ name: 'Carol' });
    await carol.ok('join', { room: 'lobby' });
    bob.sendRaw(binaryFrame({ op: 'send', ref: 'f', room: 'lobby', mime: 'image/png', name: 'a.png' }, Buffer.from([1, 2, 3, 4])));
    const sent = await bob.next('reply', (f) => f.ref === 'f');
    const url = `http://127.0.0.1:${server.port}/api/rooms/lobby/files/${sent.seq}`;
    const headers = { authorization: `Bearer ${carol.welcome.guestToken}` };
    expect((await fetch(url, { headers })).status).toBe(200);
    expect(await carol.request('unsend', { room: 'lobby', seq: sent.seq })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await alice.ok('unsend', { room: 'lobby', seq: sent.seq })).toMatchObject({ target: sent.seq });
    expect(await carol.next('unsend')).toMatchObject({ target: sent.seq, by: { id: alice.userId } });
    expect((await fetch(url, { headers })).status).toBe(404);
    const history = await carol.ok('history', { room: 'lobby' });
    expect(history.messages).toEqual([expect.objectContaining({ seq: sent.seq, unsent: true })]);
    expect(history.messages[0].binary).toBeUndefined();
  });

  it('the edit window: --edit-window 1 refuses an edit once a millisecond has passed; the owner may still unsend', async () => {
    const server = await start({ editWindowMs: 1 });
    const { alice, bob } = await lobby(server);
    const sent = await bob.ok('send', { room: 'lobby', text: 'quick' });
    await waitUntil(() => Date.now() > sent.ts + 1 || undefined, { what: 'a millisecond' });
    expect(await bob.request('edit', { room: 'lobby', seq: 1, text: 'too late' })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringMatching(/too late/) } });
    expect(await bob.request('unsend', { room: 'lobby', seq: 1 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await alice.ok('unsend', { room: 'lobby', seq: 1 })).toMatchObject({ seq: 2 });
  });

  it('mentions count per room until read; change events are never unread', async () => {
    const server = await start();
    const { alice, bob } = await lobby(server);
    await bob.ok('send', { room: 'lobby', text: '@Alice look', mentions: [alice.userId, alice.userId] });
    await bob.ok('react', { room: 'lobby', seq: 1, emoji: '👀' });
    await bob.ok('send', { room: 'lobby', text: 'and this' });
    await bob.ok('edit', { room: 'lobby', seq: 3, text: 'and this!' });
    const rooms = await alice.ok('rooms');
    expect(rooms.rooms).toEqual([expect.objectContaining({ id: 'lobby', lastSeq: 4, unread: 2, mentions: 1 })]);
    expect(await alice.ok('read', { room: 'lobby', seq: 2 })).toMatchObject({ readSeq: 2, unread: 1, mentions: 0 });
    const again = await server.connect({ guest: alice.welcome.guestToken as string });
    expect(again.welcome.rooms).toEqual([expect.objectContaining({ id: 'lobby', unread: 1, mentions: 0 })]);
  });

  it('receipts: members are told when another reads, not when the room turned them off', async () => {
    const server = await start();
    const { alice, bob } = await lobby(server);
    await alice.ok('send', { room: 'lobby', text: 'seen?' });
    await bob.ok('read', { room: 'lobby', seq: 1 });
    expect(await alice.next('receipt')).toMatchObject({ room: 'lobby', user: { id: bob.userId }, seq: 1 });
    // Reading what was read already moves nothing and tells nobody.
    await bob.ok('read', { room: 'lobby', seq: 1 });
    const off = await alice.ok('update', { room: 'lobby', receipts: false });
    expect(off.room).toMatchObject({ receipts: false, retention: null });
    await alice.ok('send', { room: 'lobby', text: 'and now?' });
    await bob.ok('read', { room: 'lobby', seq: 2 });
    await bob.ok('send', { room: 'lobby', text: 'marker' });
    await alice.next('msg', (f) => f.text === 'marker');
    expect(alice.take('receipt')).toEqual([]);
    const members = await alice.ok('members', { room: 'lobby' });
    expect(members.members.map((m: Frame) => [m.name, m.readSeq])).toEqual([
      ['Alice', 2],
      ['Bob', 3],
    ]);
  });

  it('refuses bad changes with codes a client can branch on', async () => {
    const server = await start();
    const { alice, bob } = await lobby(server);
    await alice.ok('send', { room: 'lobby', text: 'x' });
    const code = async (op: string, fields: object) => ((await bob.request(op, { room: 'lobby', ...fields })).error as { code: string } | undefined)?.code;
    expect(await code('edit', { seq: 1, text: 'not mine' })).toBe('forbidden');
    expect(await code('edit', { seq: 9, text: 'nothing' })).toBe('not_found');
    expect(await code('react', { seq: 1, emoji: '' })).toBe('bad_request');
    expect(await code('react', { seq: 1, emoji: '   ' })).toBe('bad_request');
    expect(await code('react', { seq: 1, emoji: 'x'.repeat(33) })).toBe('bad_request');
    expect(await code('send', { text: 'hi', mentions: Array.from({ length: 51 }, (_, i) => `u${i}`) })).toBe('bad_request');
    expect(await code('history', { before: 5, after: 1 })).toBe('bad_request');
    expect(await code('edit', { seq: 1, text: '' })).toBe('bad_request');
    const outsider = await server.connect({ name: 'Eve' });
    expect((await outsider.request('react', { room: 'lobby', seq: 1, emoji: '👍' })).error?.code).toBe('not_member');
  });

  it('a client flooding reaction toggles is rate-limited; the room and the counts stay right', async () => {
    const server = await start({ ratePerSec: 20 });
    const { alice, bob } = await lobby(server);
    await alice.ok('send', { room: 'lobby', text: 'target' });
    // 400 toggles at once, never reading: the intake refuses what passes the rate.
    for (let i = 0; i < 400; i++) bob.send({ op: 'react', room: 'lobby', seq: 1, emoji: '🔥', on: i % 2 === 0 });
    // Deep nesting in an edit is refused like in a send.
    let meta: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) meta = { m: meta };
    expect((await alice.request('edit', { room: 'lobby', seq: 1, text: 'x', meta })).error?.code).toBe('too_large');
    // Once a message of Bob's is through (tokens refill), every reaction before it is stored and told.
    const marker = await waitUntil(async () => {
      const r = await bob.request('send', { room: 'lobby', text: 'marker' });
      return r.ok ? r : undefined;
    }, { what: 'a send of Bob to get through' });
    await alice.next('msg', (f) => f.seq === marker.seq);
    expect(alice.ws.readyState).toBe(alice.ws.OPEN);
    // Whatever got through, the stored count is what the last event said, and 0 or 1.
    const reactions = alice.take('reaction');
    const last = reactions.at(-1);
    const history = await alice.ok('history', { room: 'lobby' });
    const count = (history.messages[0].reactions ?? []).find((r: { emoji: string }) => r.emoji === '🔥')?.count ?? 0;
    expect([0, 1]).toContain(count);
    if (last) expect(count).toBe(last.count);
    expect(reactions.length).toBeLessThan(400);
  });

  it('an unsent message\'s text is gone from the database file and its log', async () => {
    const server = await start();
    const { bob } = await lobby(server);
    const secret = 'my-password-is-hunter2-7f3a';
    await bob.ok('send', { room: 'lobby', text: secret });
    await bob.ok('edit', { room: 'lobby', seq: 1, text: `${secret} (edited)` });
    await bob.ok('send', { room: 'lobby', text: 'something else' });
    const files = ['roomcast.db', 'roomcast.db-wal'].map((f) => join(server.dataDir, f));
    const holds = () => files.some((f) => existsSync(f) && readFileSync(f).includes(secret));
    expect(holds()).toBe(true);
    await bob.ok('unsend', { room: 'lobby', seq: 1 });
    // While the server runs: the log is truncated once no reader holds it.
    await waitUntil(() => !holds() || undefined, { what: 'the secret to leave the files', timeoutMs: 10_000 });
    await server.close();
    expect(holds()).toBe(false);
  });
});

describe('message changes across cluster nodes (kit)', () => {
  let kit: KitCluster | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('an edit, a reaction and an unsend on one node reach a member on the other, live and on resume', async () => {
    const k = (kit = await startKit());
    const [a, b] = k.nodes as [KitCluster['nodes'][number], KitCluster['nodes'][number]];
    const alice = await a.connect('Alice');
    const bob = await b.connect('Bob');
    await alice.ok('create', { room: 'r' });
    await bob.ok('join', { room: 'r' });
    await alice.ok('send', { room: 'r', text: 'hello' });
    await alice.ok('edit', { room: 'r', seq: 1, text: 'hello!' });
    await bob.ok('react', { room: 'r', seq: 1, emoji: '👍' });
    await alice.ok('unsend', { room: 'r', seq: 1 });
    const got = [await bob.next('msg'), await bob.next('edit'), await bob.next('reaction'), await bob.next('unsend')];
    expect(got.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(await alice.next('reaction')).toMatchObject({ seq: 3, user: { id: bob.userId }, count: 1 });
    const again = await b.connect('Carol');
    await again.ok('join', { room: 'r', since: 0 });
    const replay = [await again.next('msg'), await again.next('edit'), await again.next('reaction'), await again.next('unsend')];
    expect(replay.map((f) => [f.seq, f.op])).toEqual([
      [1, 'msg'],
      [2, 'edit'],
      [3, 'reaction'],
      [4, 'unsend'],
    ]);
    expect(replay[0]).toMatchObject({ unsent: true });
    expect(replay[1]?.text).toBeUndefined();
  });
});

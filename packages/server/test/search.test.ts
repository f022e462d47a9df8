import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/store/store.js';
import { pageLength } from '../src/core/ops-search.js';
import { serverPerSuite, serversPerTest, type TestClient } from './helpers.js';

// `search` and retention over real sockets (issue 15): what a client sends and gets back, the
// per-user search limit, and the sweep that deletes messages past their room's retention.

const DAY = 24 * 60 * 60 * 1000;

/** The texts of a search's hits, newest first. */
async function found(client: TestClient, fields: Record<string, unknown>): Promise<string[]> {
  const r = await client.ok('search', fields);
  return r.messages.map((m: { text: string }) => m.text);
}

describe('search', () => {
  const server = serverPerSuite({ searchRate: 0 });

  it("finds text in the user's rooms, newest first, each hit a msg with its room", async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 's-lobby' });
    await alice.ok('create', { room: 's-ops' });
    await bob.ok('create', { room: 's-bobs' });
    await alice.ok('send', { room: 's-lobby', text: '大家你好啊' });
    await alice.ok('send', { room: 's-lobby', text: 'Deploy at five' });
    await alice.ok('send', { room: 's-lobby', text: 'lunch?' });
    await alice.ok('send', { room: 's-ops', text: 'deploy done' });
    await bob.ok('send', { room: 's-bobs', text: 'deploy 你好 secret' });

    const hello = await alice.ok('search', { q: '你好' });
    expect(hello.messages).toEqual([
      { op: 'msg', room: 's-lobby', seq: 1, id: expect.any(String), from: { id: alice.userId, name: 'Alice' }, text: '大家你好啊', ts: expect.any(Number) },
    ]);
    expect(hello.more).toBe(false);
    expect(hello).not.toHaveProperty('next');

    const deploy = await alice.ok('search', { q: 'DEPLOY' });
    expect(deploy.messages.map((m: { room: string; text: string }) => `${m.room}: ${m.text}`).sort()).toEqual(['s-lobby: Deploy at five', 's-ops: deploy done']);
    const [first, second] = deploy.messages as Array<{ ts: number }>;
    expect(first!.ts).toBeGreaterThanOrEqual(second!.ts);
    expect(await found(alice, { q: 'deploy', room: 's-lobby' })).toEqual(['Deploy at five']);
    // Spaces around the query do not count.
    expect(await found(alice, { q: '  lunch  ' })).toEqual(['lunch?']);
    expect(await found(bob, { q: 'deploy' })).toEqual(['deploy 你好 secret']);
  });

  it('refuses a room the user is not in, a room that does not exist, and a query of spaces', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await bob.ok('create', { room: 's-private', visibility: 'private' });
    await bob.ok('send', { room: 's-private', text: 'hidden' });
    expect((await alice.request('search', { q: 'hidden', room: 's-private' })).error?.code).toBe('not_member');
    expect((await alice.request('search', { q: 'hidden', room: 's-none' })).error?.code).toBe('room_not_found');
    expect(await found(alice, { q: 'hidden' })).toEqual([]);
    const blank = await alice.request('search', { q: '   ' });
    expect(blank.error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('only spaces') });
    expect((await alice.request('search', { q: '' })).error?.code).toBe('bad_request');
    expect((await alice.request('search', { q: 'x', limit: 101 })).error?.code).toBe('bad_request');
  });

  it('pages with limit: more says older hits exist, next goes as before', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 's-pages' });
    // Stored with times a minute apart, so the pages are known in advance.
    const base = Date.now() - 60 * 60_000;
    for (let n = 1; n <= 5; n++) {
      await server.store.append({ room: 's-pages', persist: true, from: { id: alice.userId, name: 'Alice' }, msgId: `p${n}`, text: `page ${n}`, ts: base + n * 60_000 });
    }
    const one = await alice.ok('search', { q: 'page', limit: 2 });
    expect(one.messages.map((m: { text: string }) => m.text)).toEqual(['page 5', 'page 4']);
    expect(one).toMatchObject({ more: true, next: base + 4 * 60_000 });
    const two = await alice.ok('search', { q: 'page', limit: 2, before: one.next });
    expect(two.messages.map((m: { text: string }) => m.text)).toEqual(['page 3', 'page 2']);
    expect(two.more).toBe(true);
    const three = await alice.ok('search', { q: 'page', limit: 2, before: two.next });
    expect(three.messages.map((m: { text: string }) => m.text)).toEqual(['page 1']);
    expect(three.more).toBe(false);
    expect(three).not.toHaveProperty('next');
  });
});

describe('search rate and retention', () => {
  const start = serversPerTest();

  it('limits searches per user with --search-rate, telling when to retry', async () => {
    const server = await start({ searchRate: 2 });
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('search', { q: 'a' });
    await alice.ok('search', { q: 'b' });
    const refused = await alice.request('search', { q: 'c' });
    expect(refused.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/2 a minute.*wait 30 seconds/) });
    await bob.ok('search', { q: 'a' });
  });

  it("deletes messages past their room's retention, or the server's default, at each sweep", async () => {
    const server = await start({ retentionDays: 30 });
    const alice = await server.connect({ name: 'Alice' });
    const created = await alice.ok('create', { room: 'short', retention: 1 });
    expect(created.room).toMatchObject({ retention: 1 });
    await alice.ok('create', { room: 'plain' });
    for (const room of ['short', 'plain']) {
      await alice.ok('send', { room, text: `${room} one` });
      await alice.ok('send', { room, text: `${room} two` });
    }
    const texts = async (room: string) => (await alice.ok('history', { room })).messages.map((m: { text: string }) => m.text);
    // Nothing is old yet.
    expect(await server.core.retention.sweep()).toBe(0);
    // Two days on: the 1-day room is emptied, the 30-day default keeps the other.
    expect(await server.core.retention.sweep(Date.now() + 2 * DAY)).toBe(2);
    expect(await texts('short')).toEqual([]);
    expect(await texts('plain')).toEqual(['plain one', 'plain two']);
    expect(await found(alice, { q: 'one' })).toEqual(['plain one']);
    // New messages continue the room's seqs.
    expect((await alice.ok('send', { room: 'short', text: 'short three' })).seq).toBe(3);
    expect(await server.core.retention.sweep(Date.now() + 31 * DAY)).toBe(3);
    expect(await texts('plain')).toEqual([]);
    expect(await found(alice, { q: 'o' })).toEqual([]);
  });
});

describe('pageLength', () => {
  const hit = (ts: number, text = 'x'): StoredMessage => ({ room: 'r', seq: ts, kind: 'msg', id: `m${ts}`, from: { id: 'u', name: 'U' }, text, ts });
  const bytes = { max: 1_000_000, metaMax: 2048 };

  it('takes up to limit hits, and never ends a page inside a run of one ts', () => {
    expect(pageLength([hit(5), hit(4), hit(3)], 5, bytes)).toBe(3);
    expect(pageLength([hit(5), hit(4), hit(3)], 2, bytes)).toBe(2);
    // The third hit shares the second's ts: `before` = 4 would skip it, so the page ends after 5.
    expect(pageLength([hit(5), hit(4), hit(4)], 2, bytes)).toBe(1);
    expect(pageLength([hit(6), hit(5), hit(5), hit(5), hit(4)], 3, bytes)).toBe(1);
    // A page that is all one run cannot end before it: it stays whole.
    expect(pageLength([hit(4), hit(4), hit(4)], 2, bytes)).toBe(2);
  });

  it('keeps a page of long messages within the byte budget, with at least one hit', () => {
    const long = 'x'.repeat(3000);
    expect(pageLength([hit(9, long), hit(8, long), hit(7, long), hit(6, long)], 4, { max: 7000, metaMax: 2048 })).toBe(2);
    expect(pageLength([hit(9, long), hit(8, long)], 4, { max: 100, metaMax: 2048 })).toBe(1);
  });
});

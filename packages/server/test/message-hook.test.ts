import { beforeEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/auth/signature.js';
import { serverPerSuite, type TestClient, type TestServer } from './helpers.js';
import { answer, hookPerSuite, type HookRequest } from './hook-server.js';

// The moderation hook (--hook-url) against a real HTTP receiver: what it is sent, and each way it
// can answer: allow, reject, replace, never (open and closed), crash, garbage, out of order.

const SECRET = 'hook-secret-0123456789';
let rooms = 0;

/** Alice creates a fresh room, Bob joins it. */
async function pair(server: TestServer): Promise<{ alice: TestClient; bob: TestClient; room: string }> {
  const room = `h${++rooms}`;
  const alice = await server.connect({ name: 'Alice' });
  const bob = await server.connect({ name: 'Bob' });
  await alice.ok('create', { room });
  await bob.ok('join', { room });
  return { alice, bob, room };
}

async function texts(c: TestClient, room: string): Promise<string[]> {
  return (await c.ok('history', { room, limit: 100 })).messages.map((m: { text: string }) => m.text);
}

describe('a hook that answers', () => {
  const hook = hookPerSuite();
  const server = serverPerSuite(() => ({ ratePerSec: 0, hookUrl: hook.url, hookSecret: SECRET, hookTimeoutMs: 10_000, hookFail: 'closed', maxText: 50 }));
  beforeEach(() => {
    hook.handler = (r) => answer(r, { action: 'allow' });
  });

  it('is sent the message and its sender, signed, and an allow stores it as sent', async () => {
    const { alice, bob, room } = await pair(server);
    const reply = await alice.ok('send', { room, text: 'hello', meta: { k: 1 } });
    expect(reply.text).toBeUndefined();
    expect((await bob.next('msg')).text).toBe('hello');
    const r = hook.requests.at(-1) as HookRequest;
    expect(r.body).toEqual({ type: 'message', room, from: { id: alice.userId, name: 'Alice' }, text: 'hello', meta: { k: 1 }, direct: false });
    expect(verifySignature(SECRET, r.headers['x-roomcast-signature'] as string, r.raw)).toBe(true);
    expect(verifySignature('another-secret-0123456', r.headers['x-roomcast-signature'] as string, r.raw)).toBe(false);
  });

  it('reuses its connection to the hook (keep-alive)', async () => {
    const { alice, room } = await pair(server);
    await alice.ok('send', { room, text: 'warm-up' });
    const before = hook.connections;
    for (let i = 0; i < 5; i++) await alice.ok('send', { room, text: `one by one ${i}` });
    expect(hook.connections).toBe(before);
  });

  it('reject: the sender gets error rejected with the reason; nothing is stored or delivered', async () => {
    const { alice, bob, room } = await pair(server);
    hook.handler = (r) => answer(r, r.body.text === 'spam' ? { action: 'reject', reason: 'no spam here' } : { action: 'allow' });
    const refused = await alice.request('send', { room, text: 'spam' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'rejected', message: 'no spam here' } });
    await alice.ok('send', { room, text: 'fine' });
    const got = await bob.next('msg');
    expect(got).toMatchObject({ text: 'fine', seq: 1 });
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
    expect(await texts(bob, room)).toEqual(['fine']);
  });

  it('replace: the replacement is stored and delivered, and the sender\'s reply carries it as text', async () => {
    const { alice, bob, room } = await pair(server);
    hook.handler = (r) => answer(r, { action: 'replace', text: `[${r.body.text}]` });
    const reply = await alice.ok('send', { room, text: 'shout' });
    expect(reply.text).toBe('[shout]');
    expect((await bob.next('msg')).text).toBe('[shout]');
    expect(await texts(bob, room)).toEqual(['[shout]']);
  });

  it('a replacement longer than --max-text, or an answer over 64 KiB, is a failure (closed: unavailable)', async () => {
    const { alice, room } = await pair(server);
    hook.handler = (r) => answer(r, { action: 'replace', text: 'x'.repeat(51) });
    expect(await alice.request('send', { room, text: 'a' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    hook.handler = (r) => answer(r, { action: 'allow', pad: 'x'.repeat(70 * 1024) });
    expect(await alice.request('send', { room, text: 'b' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await texts(alice, room)).toEqual([]);
  });

  it('keeps the room\'s order when the hook answers 20 messages in reverse', async () => {
    const { alice, bob, room } = await pair(server);
    const before = hook.requests.length;
    const held: HookRequest[] = [];
    hook.handler = (r) => {
      held.push(r);
      if (held.length === 20) for (const h of [...held].reverse()) answer(h, { action: 'allow' });
    };
    const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const replies = await Promise.all(sent.map((text) => alice.ok('send', { room, text })));
    expect(hook.requests.length - before).toBe(20);
    expect(replies.map((r) => r.seq)).toEqual(sent.map((_, i) => i + 1));
    const live: string[] = [];
    for (let i = 0; i < 20; i++) live.push((await bob.next('msg')).text);
    expect(live).toEqual(sent);
    expect(await texts(bob, room)).toEqual(sent);
  });

  it('edits go through the hook (type edit, the seq edited): replaced and rejected', async () => {
    const { alice, bob, room } = await pair(server);
    await alice.ok('send', { room, text: 'first' });
    await bob.next('msg');
    hook.handler = (r) => answer(r, r.body.text.includes('bad') ? { action: 'reject', reason: 'not that' } : { action: 'replace', text: r.body.text.toUpperCase() });
    const reply = await alice.ok('edit', { room, seq: 1, text: 'edited' });
    expect(reply.text).toBe('EDITED');
    expect(hook.requests.at(-1)?.body).toMatchObject({ type: 'edit', room, seq: 1, text: 'edited', direct: false });
    expect(await bob.next('edit')).toMatchObject({ target: 1, text: 'EDITED' });
    expect(await alice.request('edit', { room, seq: 1, text: 'bad edit' })).toMatchObject({ ok: false, error: { code: 'rejected', message: 'not that' } });
    expect(await texts(bob, room)).toEqual(['EDITED']);
  });

  it('DMs go through the hook (direct: true)', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    hook.handler = (r) => answer(r, r.body.text === 'psst' ? { action: 'reject', reason: 'no whispering' } : { action: 'allow' });
    expect(await alice.request('dm', { to: bob.userId, text: 'psst' })).toMatchObject({ ok: false, error: { code: 'rejected', message: 'no whispering' } });
    expect(hook.requests.at(-1)?.body).toMatchObject({ type: 'message', text: 'psst', direct: true, from: { id: alice.userId } });
    await alice.ok('dm', { to: bob.userId, text: 'hello' });
    expect((await bob.next('msg')).text).toBe('hello');
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
  });
});

describe('a hook that fails, --hook-fail closed', () => {
  const hook = hookPerSuite();
  const server = serverPerSuite(() => ({ ratePerSec: 0, hookUrl: hook.url, hookTimeoutMs: 200, hookFail: 'closed' }));

  const failures: Array<[string, (r: HookRequest) => void]> = [
    ['never answers', () => {}],
    ['destroys the socket', (r) => r.res.socket?.destroy()],
    ['answers 500', (r) => answer(r, { action: 'allow' }, 500)],
    ['answers garbage', (r) => answer(r, 'this is not json')],
    ['answers the wrong shape', (r) => answer(r, { action: 'delete' })],
    ['replaces the text with one holding NUL', (r) => answer(r, { action: 'replace', text: 'a\u0000b' })],
  ];
  for (const [what, handler] of failures) {
    it(`${what}: the sender gets unavailable, nothing is stored`, async () => {
      const { alice, bob, room } = await pair(server);
      hook.handler = handler;
      const refused = await alice.request('send', { room, text: 'hello?' });
      expect(refused).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('moderation service did not answer') } });
      await bob.barrier();
      expect(bob.take('msg')).toEqual([]);
      expect(await texts(bob, room)).toEqual([]);
    });
  }
});

describe('a hook that fails, --hook-fail open', () => {
  const hook = hookPerSuite();
  const server = serverPerSuite(() => ({ ratePerSec: 0, hookUrl: hook.url, hookTimeoutMs: 200, hookFail: 'open' }));

  const failures: Array<[string, (r: HookRequest) => void]> = [
    ['never answers', () => {}],
    ['destroys the socket', (r) => r.res.socket?.destroy()],
    ['answers 500', (r) => answer(r, { action: 'reject', reason: 'x' }, 500)],
  ];
  for (const [what, handler] of failures) {
    it(`${what}: the message goes through as sent`, async () => {
      const { alice, bob, room } = await pair(server);
      hook.handler = handler;
      const asked = hook.requests.length;
      const reply = await alice.ok('send', { room, text: 'through' });
      expect(reply.seq).toBe(1);
      // The hook was asked (and failed): the message went through because of --hook-fail open.
      expect(hook.requests.length).toBe(asked + 1);
      expect((await bob.next('msg')).text).toBe('through');
      expect(await texts(bob, room)).toEqual(['through']);
    });
  }
});

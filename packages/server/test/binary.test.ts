import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { binaryFrame, serverPerSuite } from './helpers.js';

describe('binary messages', () => {
  const server = serverPerSuite({ maxBinary: 64 * 1024 });

  it('delivers an image byte-identical to every other member and serves it from history to members only', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const carol = await server.connect({ name: 'Carol' });
    const eve = await server.connect({ name: 'Eve' });
    await alice.ok('create', { room: 'pics' });
    await bob.ok('join', { room: 'pics' });
    await carol.ok('join', { room: 'pics' });
    const image = randomBytes(40_000);
    alice.sendRaw(binaryFrame({ op: 'send', ref: 'img', room: 'pics', mime: 'image/png', name: 'cat.png', id: 'pic-1' }, image));
    const reply = await alice.next('reply', (f) => f.ref === 'img');
    expect(reply).toMatchObject({ ok: true, room: 'pics', seq: 1, id: 'pic-1' });
    for (const c of [bob, carol]) {
      const msg = await c.next('msg');
      expect(msg).toMatchObject({ room: 'pics', seq: 1, from: { id: alice.userId }, mime: 'image/png', name: 'cat.png', size: image.length });
      expect(Buffer.compare(msg.payload as Buffer, image)).toBe(0);
    }
    const history = await bob.ok('history', { room: 'pics' });
    const [entry] = history.messages;
    expect(entry).toMatchObject({ seq: 1, binary: { mime: 'image/png', name: 'cat.png', size: image.length, url: '/api/rooms/pics/files/1' } });
    expect(entry.text).toBeUndefined();

    const url = `${server.url}${entry.binary.url}`;
    const asBob = await fetch(url, { headers: { authorization: `Bearer ${bob.welcome.guestToken}` } });
    expect(asBob.status).toBe(200);
    expect(asBob.headers.get('content-type')).toBe('image/png');
    expect(asBob.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.compare(Buffer.from(await asBob.arrayBuffer()), image)).toBe(0);
    const viaQuery = await fetch(`${url}?token=${encodeURIComponent(carol.welcome.guestToken as string)}`);
    expect(viaQuery.status).toBe(200);
    expect((await viaQuery.arrayBuffer()).byteLength).toBe(image.length);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer nonsense' } })).status).toBe(401);
    const asEve = await fetch(url, { headers: { authorization: `Bearer ${eve.welcome.guestToken}` } });
    expect(asEve.status).toBe(403);
    expect(await asEve.json()).toMatchObject({ error: { code: 'not_member' } });
    expect((await fetch(`${server.url}/api/rooms/pics/files/99`, { headers: { authorization: `Bearer ${bob.welcome.guestToken}` } })).status).toBe(404);
  });

  it('serves uploaded HTML as a download, never as a page', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'files' });
    alice.sendRaw(binaryFrame({ op: 'send', ref: 1, room: 'files', mime: 'text/html', name: 'x.html' }, Buffer.from('<script>alert(1)</script>')));
    const reply = await alice.next('reply', (f) => f.ref === 1);
    const res = await fetch(`${server.url}/api/rooms/files/files/${reply.seq}`, { headers: { authorization: `Bearer ${alice.welcome.guestToken}` } });
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it('sends a binary direct message', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const bytes = randomBytes(1000);
    alice.sendRaw(binaryFrame({ op: 'dm', ref: 1, to: bob.userId, mime: 'application/pdf', name: 'doc.pdf' }, bytes));
    const reply = await alice.next('reply', (f) => f.ref === 1);
    expect(reply).toMatchObject({ ok: true, online: true });
    const msg = await bob.next('msg');
    expect(msg).toMatchObject({ room: reply.room, mime: 'application/pdf', size: 1000 });
    expect(Buffer.compare(msg.payload as Buffer, bytes)).toBe(0);
  });

  it('refuses malformed binary frames with a clear error and keeps the connection', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'badbin' });
    alice.sendRaw(Buffer.from([0, 0]));
    expect((await alice.next('error')).error).toMatchObject({ code: 'bad_request' });
    alice.sendRaw(binaryFrame({ op: 'send', ref: 2, room: 'badbin' }, Buffer.from('x')));
    expect(await alice.next('reply', (f) => f.ref === 2)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    alice.sendRaw(binaryFrame({ op: 'send', ref: 3, room: 'badbin', mime: 'image/png' }, Buffer.alloc(0)));
    expect(await alice.next('reply', (f) => f.ref === 3)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    alice.sendRaw(binaryFrame({ op: 'send', ref: 4, room: 'badbin', mime: 'image/png' }, Buffer.alloc(64 * 1024 + 1)));
    expect(await alice.next('reply', (f) => f.ref === 4)).toMatchObject({ ok: false, error: { code: 'too_large' } });
    alice.sendRaw(binaryFrame({ op: 'send', ref: 5, room: 'nope', mime: 'image/png' }, Buffer.from('x')));
    expect(await alice.next('reply', (f) => f.ref === 5)).toMatchObject({ ok: false, error: { code: 'room_not_found' } });
    await alice.barrier();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { RoomcastClient } from '../src/client.js';
import type { Message } from '../src/messages.js';
import { client, connect, nextEvent, serverPerSuite } from './helpers.js';

// File keys through the SDK against a real server: file URLs carry a key that fetches files,
// never the sign-in token (refreshing is timed in unit/file-keys.test.ts, under fake timers).

describe('file keys', () => {
  const server = serverPerSuite();
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('arrive after connect (the filekey event); fileUrl and fileLink carry ?key=, never the token', async () => {
    const chat = client(server.wsUrl, { name: 'Alice' });
    clients.push(chat);
    const arrived = nextEvent(chat, 'filekey');
    await chat.connect();
    const key = await arrived;
    expect(key.expires).toBeGreaterThan(Date.now() + 3590_000);
    const room = await chat.create();
    const sent = await room.sendBinary(new Uint8Array([1, 2, 3]), { mime: 'image/png', name: 'p.png' });
    const own = room.message(sent.seq) as Message;
    const url = chat.fileUrl(own);
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/api/rooms/${room.id}/files/${sent.seq}\\?key=[\\w.-]+$`));
    expect(url).not.toContain(encodeURIComponent(chat.guestToken as string));
    expect(url).not.toContain('token=');
    expect(url).toContain(`?key=${encodeURIComponent(key.key)}`);
    const r = await fetch(url as string);
    expect(r.status).toBe(200);
    expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([1, 2, 3]);
    expect(await chat.fileLink(own)).toBe(url);
  });

  it('fetch for members only: another user\'s key of their own gets 403 until they join', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const room = await alice.create();
    const sent = await room.sendBinary(new Uint8Array([9]), { mime: 'image/png' });
    const message = room.message(sent.seq) as Message;
    const bobsUrl = await bob.fileLink(message);
    expect(bobsUrl).toContain('?key=');
    expect((await fetch(bobsUrl as string)).status).toBe(403);
    await bob.join(room.id);
    expect((await fetch(bobsUrl as string)).status).toBe(200);
  });
});

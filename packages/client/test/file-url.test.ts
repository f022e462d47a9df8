import { afterEach, describe, expect, it } from 'vitest';
import type { RoomcastClient } from '../src/client.js';
import type { Message } from '../src/messages.js';
import { collect, connect, serverPerSuite } from './helpers.js';

// chat.fileUrl() for your own binary message as soon as the send resolves (the server's reply
// gives the room and seq the file is served under), not only once history brought its URL.

describe('fileUrl for your own sent files', () => {
  const server = serverPerSuite();
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  async function fetchBytes(url: string | null): Promise<number[]> {
    // A file key, never the sign-in token (which would then sit in links, history and logs).
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/api/rooms/[^/]+/files/\\d+\\?key=[\\w.-]+$`));
    const r = await fetch(url as string);
    expect(r.status).toBe(200);
    return [...new Uint8Array(await r.arrayBuffer())];
  }

  it('is a full URL right after sendBinary resolves, on the kept message and the one delivered', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const room = await alice.create();
    const seen = collect(room);
    const bytes = new Uint8Array([71, 73, 70, 56, 57, 97]);
    const res = await room.sendBinary(bytes, { mime: 'image/gif', name: 'mine.gif' });
    const own = room.message(res.seq);
    expect(own?.binary).toEqual({ mime: 'image/gif', name: 'mine.gif', size: 6, url: `/api/rooms/${encodeURIComponent(room.id)}/files/${res.seq}` });
    expect(await fetchBytes(alice.fileUrl(own as Message))).toEqual([...bytes]);
    const [delivered] = await seen.until(1);
    expect(delivered).toBe(own);
    // Same as the URL history gives.
    const [fromHistory] = (await room.history()).messages;
    expect(alice.fileUrl(fromHistory as Message)).toBe(alice.fileUrl(own as Message));
    // A text message has none.
    const text = await room.send('no file here');
    expect(alice.fileUrl(room.message(text.seq) as Message)).toBeNull();
  });

  it('works for a direct binary message too', async () => {
    const alice = await connect(server.wsUrl, { name: 'Alice' }, clients);
    const bob = await connect(server.wsUrl, { name: 'Bob' }, clients);
    const res = await alice.dmBinary(bob.user?.id as string, new Uint8Array([1, 2, 3]), { mime: 'application/octet-stream', name: 'x.bin' });
    const own = alice.room(res.room)?.message(res.seq);
    expect(own?.mine).toBe(true);
    expect(await fetchBytes(alice.fileUrl(own as Message))).toEqual([1, 2, 3]);
  });
});

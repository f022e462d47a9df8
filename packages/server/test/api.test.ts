import { describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';

const KEY = 'backend-key-0123456789';

describe('server-side HTTP API', () => {
  const server = serverPerSuite({ apiKey: KEY });
  const off = serverPerSuite();
  const call = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { ...(init.key !== undefined ? { authorization: `Bearer ${init.key}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
    });

  it('publishes a system message to a room and reads history, with the key', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'news' });
    const res = await call('/api/rooms/news/messages', { method: 'POST', key: KEY, body: JSON.stringify({ text: 'maintenance at 10', id: 'ann-1' }) });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { seq: number };
    expect(body).toMatchObject({ room: 'news', seq: 1, id: 'ann-1' });
    expect(await alice.next('msg')).toMatchObject({ seq: 1, text: 'maintenance at 10', from: { id: 'system', name: 'system' } });
    // Idempotent like the WebSocket side.
    const again = await call('/api/rooms/news/messages', { method: 'POST', key: KEY, body: JSON.stringify({ text: 'maintenance at 10', id: 'ann-1' }) });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ seq: 1, duplicate: true });
    const history = await call('/api/rooms/news/messages?limit=10', { key: KEY });
    expect(await history.json()).toMatchObject({ room: 'news', more: false, messages: [{ seq: 1, text: 'maintenance at 10' }] });
  });

  it('reads history forward with after, in current state, and refuses before with after', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await alice.ok('create', { room: 'forward' });
    for (const text of ['a', 'b', 'c']) await alice.ok('send', { room: 'forward', text });
    await alice.ok('edit', { room: 'forward', seq: 2, text: 'b!' });
    const page = await call('/api/rooms/forward/messages?after=1&limit=1', { key: KEY });
    expect(await page.json()).toMatchObject({ more: true, messages: [{ seq: 2, text: 'b!', edited: expect.any(Number) }] });
    const rest = await call('/api/rooms/forward/messages?after=2', { key: KEY });
    expect(((await rest.json()) as { messages: Array<{ seq: number }> }).messages.map((m) => m.seq)).toEqual([3]);
    const both = await call('/api/rooms/forward/messages?after=1&before=3', { key: KEY });
    expect(both.status).toBe(400);
  });

  it('refuses a missing or wrong key, bad bodies and unknown rooms with clear errors', async () => {
    expect((await call('/api/rooms/news/messages')).status).toBe(401);
    const wrong = await call('/api/rooms/news/messages', { key: `${KEY}x` });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const viaHeader = await fetch(`${server.url}/api/rooms/news/messages`, { headers: { 'x-api-key': KEY } });
    expect(viaHeader.status).toBe(200);
    const noText = await call('/api/rooms/news/messages', { method: 'POST', key: KEY, body: JSON.stringify({}) });
    expect(noText.status).toBe(400);
    expect(await noText.json()).toMatchObject({ error: { code: 'bad_request' } });
    const missing = await call('/api/rooms/nowhere/messages', { method: 'POST', key: KEY, body: JSON.stringify({ text: 'hi' }) });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'room_not_found' } });
    const long = await call('/api/rooms/news/messages', { method: 'POST', key: KEY, body: JSON.stringify({ text: 'x'.repeat(5000) }) });
    expect(long.status).toBe(413);
  });

  it('is off without --api-key', async () => {
    const res = await fetch(`${off.url}/api/rooms/news/messages`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('--api-key');
  });
});

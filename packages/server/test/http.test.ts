import { describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';

describe('HTTP endpoints', () => {
  const server = serverPerSuite();

  it('reports health and readiness', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'ok', broker: 'ok' });
  });

  it('counts connections, online users, rooms and messages in /api/stats and /metrics', async () => {
    const alice = await server.connect({ name: 'Alice' });
    await server.connect({ guest: alice.welcome.guestToken as string });
    const bob = await server.connect({ name: 'Bob' });
    await alice.ok('create', { room: 'stats' });
    await bob.ok('join', { room: 'stats' });
    await alice.ok('send', { room: 'stats', text: 'one' });
    await bob.next('msg');
    const stats = (await (await fetch(`${server.url}/api/stats`)).json()) as Record<string, number>;
    expect(stats).toMatchObject({ connections: 3, onlineUsers: 2, rooms: 1, roomsStored: 1, messagesIn: 1 });
    expect(stats.messagesOut).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^roomcast_connections 3$/m);
    expect(metrics).toMatch(/^roomcast_messages_in_total 1$/m);
    expect(metrics).toContain('roomcast_process_');
  });

  it('serves a page at / that says how to connect, and 404s other upgrade paths', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/ws?name=');
    const bad = await fetch(`${server.url}/nope`);
    expect(bad.status).toBe(404);
  });
});

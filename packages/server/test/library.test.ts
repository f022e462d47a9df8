import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Signal, waitUntil } from '../../../test/wait.js';
import type { AuthorizeAction } from '../src/core/authorize.js';
import { createRoomcast, roomcastPlugin, type Roomcast, type RoomcastEvent, type RoomcastOptions } from '../src/index.js';
import { binaryFrame, removeDir, tempDir, TestClient } from './helpers.js';

// Library mode: roomcast on the application's own server (node:http, Express) or as a Fastify
// plugin, one port for both, with the in-process hooks.

const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

/** createRoomcast with a fresh data directory, closed after the test. */
async function attach(options: RoomcastOptions): Promise<Roomcast> {
  const dataDir = tempDir();
  const rc = await createRoomcast({ logLevel: 'silent', presenceGraceMs: 0, logger: silent, dataDir, ...options });
  cleanups.push(() => removeDir(dataDir), () => rc.close());
  return rc;
}

async function connect(url: string, name: string): Promise<TestClient> {
  const c = await TestClient.connect(url, { name });
  cleanups.push(() => c.close());
  return c;
}

/** Alice creates a room, Bob joins it, Alice sends: Bob gets the message. */
async function roundTrip(wsUrl: string, room = 'lobby'): Promise<void> {
  const alice = await connect(wsUrl, 'Alice');
  const bob = await connect(wsUrl, 'Bob');
  await alice.ok('create', { room });
  await bob.ok('join', { room });
  await alice.ok('send', { room, text: 'hello from the app' });
  const msg = await bob.next('msg', (f) => f.room === room);
  expect(msg.text).toBe('hello from the app');
}

function appHandler(req: { url?: string | undefined }, res: import('node:http').ServerResponse): void {
  res.writeHead(req.url === '/hello' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/hello' ? 'app says hello' : 'app: not found');
}

describe('attached to a plain node:http server', () => {
  it('shares the port: app routes, roomcast routes under the path, the WebSocket at path/ws', async () => {
    const server = createServer(appHandler);
    const rc = await attach({ server, path: '/chat' });
    const port = await listen(server);
    const base = `http://127.0.0.1:${port}`;
    expect(rc.url).toBe(`${base}/chat`);
    expect(await (await fetch(`${base}/hello`)).text()).toBe('app says hello');
    expect(await (await fetch(`${base}/chat/healthz`)).json()).toEqual({ status: 'ok' });
    // Not one of roomcast's paths, though under its prefix: the app's.
    expect(await (await fetch(`${base}/chat/elsewhere`)).text()).toBe('app: not found');
    // roomcast's own routes are not at the root.
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
    await roundTrip(`ws://127.0.0.1:${port}/chat/ws`);
  });

  it("leaves the application's own WebSocket upgrades to it", async () => {
    const server = createServer(appHandler);
    const appWss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/app-ws') appWss.handleUpgrade(req, socket, head, (ws) => ws.send('app socket'));
    });
    await attach({ server, path: '/chat' });
    const port = await listen(server);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/app-ws`);
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(data.toString()).toBe('app socket');
    ws.close();
    await roundTrip(`ws://127.0.0.1:${port}/chat/ws`);
  });

  it("close() stops roomcast and leaves the application's server running", async () => {
    const server = createServer(appHandler);
    const rc = await attach({ server, path: '/chat' });
    const port = await listen(server);
    const base = `http://127.0.0.1:${port}`;
    const alice = await connect(`ws://127.0.0.1:${port}/chat/ws`, 'Alice');
    await rc.close();
    expect((await alice.closed).code).toBe(1001);
    expect(server.listening).toBe(true);
    expect(await (await fetch(`${base}/hello`)).text()).toBe('app says hello');
    // Its paths are the app's again.
    expect(await (await fetch(`${base}/chat/healthz`)).text()).toBe('app: not found');
  });

  it('refuses options that belong to the application’s server', async () => {
    const server = createServer(appHandler);
    await expect(createRoomcast({ server, port: 8080, logger: silent })).rejects.toThrow(/port belongs to the application's server/);
    await expect(createRoomcast({ server, webUi: true, path: '/chat', logger: silent })).rejects.toThrow(/webUi needs path "\/"/);
  });
});

describe('with the web UI at the root', () => {
  it('serves the UI and its files at /, and leaves the other paths to the app', async () => {
    const server = createServer(appHandler);
    await attach({ server, path: '/', webUi: true });
    const port = await listen(server);
    const base = `http://127.0.0.1:${port}`;
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const asset = /(?:src|href)="(\/assets\/[^"]+)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await fetch(`${base}${asset}`)).status).toBe(200);
    expect(await (await fetch(`${base}/api/client-config`)).json()).toEqual({ auth: 'guest' });
    expect(await (await fetch(`${base}/hello`)).text()).toBe('app says hello');
    await roundTrip(`ws://127.0.0.1:${port}/ws`);
  });
});

describe('attached to an Express app', () => {
  it('answers the app routes and the chat on the same port', async () => {
    const app = express();
    app.get('/api/hello', (_req, res) => {
      res.json({ hello: 'from express' });
    });
    const server = createServer(app);
    await attach({ server, path: '/chat', apiKey: 'secret-key-0123456789' });
    const port = await listen(server);
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/api/hello`)).json()).toEqual({ hello: 'from express' });
    await roundTrip(`ws://127.0.0.1:${port}/chat/ws`, 'general');
    // A request with a body reaches roomcast's API whole (the server-side API posts a message).
    const posted = await fetch(`${base}/chat/api/rooms/general/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the backend' }),
    });
    expect(posted.status).toBe(201);
    expect((await posted.json()) as { seq: number }).toMatchObject({ room: 'general', seq: 2 });
  });
});

describe('hooks', () => {
  it('authorize: a false refuses create, join, send and history with forbidden', async () => {
    const asked: [string, string, AuthorizeAction][] = [];
    const server = createServer(appHandler);
    await attach({
      server,
      path: '/chat',
      hooks: {
        authorize: async (user, room, action) => {
          asked.push([user.name, room, action]);
          // Rooms starting with staff- are for Alice; Bob may read "news" but not write to it.
          if (room.startsWith('staff-')) return user.name === 'Alice';
          return !(room === 'news' && action === 'send' && user.name === 'Bob');
        },
      },
    });
    const port = await listen(server);
    const url = `ws://127.0.0.1:${port}/chat/ws`;
    const alice = await connect(url, 'Alice');
    const bob = await connect(url, 'Bob');
    await alice.ok('create', { room: 'staff-room' });
    const createRefused = await bob.request('create', { room: 'staff-other' });
    expect(createRefused.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/the application refused to let you create room "staff-other"/) });
    const joinRefused = await bob.request('join', { room: 'staff-room' });
    expect(joinRefused.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/refused to let you join room "staff-room"/) });
    await alice.ok('create', { room: 'news' });
    await bob.ok('join', { room: 'news' });
    const sendRefused = await bob.request('send', { room: 'news', text: 'hi' });
    expect(sendRefused.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/refused to let you send to room "news"/) });
    await alice.ok('send', { room: 'news', text: 'headline' });
    expect((await bob.next('msg')).text).toBe('headline');
    const page = await bob.ok('history', { room: 'news' });
    expect(page.messages.map((m: { text: string }) => m.text)).toEqual(['headline']);
    // The refused room was never made, and the hook saw each action as the user who asked.
    expect((await alice.request('join', { room: 'staff-other' })).error.code).toBe('room_not_found');
    expect(asked).toContainEqual(['Bob', 'staff-other', 'create']);
    expect(asked).toContainEqual(['Bob', 'news', 'history']);
    const bobHistory = await bob.request('history', { room: 'staff-room' });
    expect(bobHistory.ok).toBe(false);
  });

  it('authorize: binary sends and direct messages are `send`s (a dm is asked with the conversation id, before it exists)', async () => {
    const asked: [string, string, AuthorizeAction][] = [];
    const server = createServer(appHandler);
    await attach({
      server,
      path: '/chat',
      hooks: {
        authorize: (user, room, action) => {
          asked.push([user.name, room, action]);
          return user.name !== 'Bob' || action !== 'send';
        },
      },
    });
    const port = await listen(server);
    const url = `ws://127.0.0.1:${port}/chat/ws`;
    const alice = await connect(url, 'Alice');
    const bob = await connect(url, 'Bob');
    await alice.ok('create', { room: 'pics' });
    await bob.ok('join', { room: 'pics' });
    bob.sendRaw(binaryFrame({ op: 'send', ref: 'img', room: 'pics', mime: 'image/png', name: 'x.png' }, Buffer.from([1, 2, 3])));
    expect((await bob.next('reply', (f) => f.ref === 'img')).error.code).toBe('forbidden');
    const dm = await bob.request('dm', { to: alice.userId, text: 'psst' });
    expect(dm.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/refused to let you send this direct message/) });
    const dmRoom = asked.find(([name, room]) => name === 'Bob' && room.startsWith('dm-'))?.[1];
    expect(dmRoom).toBeDefined();
    // Refused before the conversation was made: Alice has no such room.
    const rooms = await alice.ok('rooms');
    expect(rooms.rooms.map((r: { id: string }) => r.id)).not.toContain(dmRoom);
    await alice.ok('dm', { to: bob.userId, text: 'hi Bob' });
    expect((await bob.next('msg')).text).toBe('hi Bob');
  });

  it('beforeMessage: rejects with the reason, replaces the text', async () => {
    const server = createServer(appHandler);
    await attach({
      server,
      path: '/chat',
      hooks: {
        beforeMessage: (input) => {
          if (input.text.includes('spam')) return { action: 'reject', reason: 'no spam here, please' };
          if (input.text.includes('darn')) return { action: 'replace', text: input.text.replaceAll('darn', 'd**n') };
          return { action: 'allow' };
        },
      },
    });
    const port = await listen(server);
    const url = `ws://127.0.0.1:${port}/chat/ws`;
    const alice = await connect(url, 'Alice');
    const bob = await connect(url, 'Bob');
    await alice.ok('create', { room: 'gated' });
    await bob.ok('join', { room: 'gated' });
    const refused = await alice.request('send', { room: 'gated', text: 'buy spam now' });
    expect(refused.error).toEqual({ code: 'rejected', message: 'no spam here, please' });
    await alice.ok('send', { room: 'gated', text: 'oh darn' });
    expect((await bob.next('msg')).text).toBe('oh d**n');
    await bob.barrier();
    expect(bob.take('msg')).toEqual([]);
  });

  it('onEvent: gets message.created, and a throw is retried with the same event id', async () => {
    const seen: RoomcastEvent[] = [];
    const changed = new Signal();
    let failures = 1;
    const server = createServer(appHandler);
    await attach({
      server,
      path: '/chat',
      hooks: {
        onEvent: (event) => {
          seen.push(event);
          changed.notify();
          if (event.type === 'message.created' && failures-- > 0) throw new Error('the app is busy');
        },
      },
    });
    const port = await listen(server);
    const alice = await connect(`ws://127.0.0.1:${port}/chat/ws`, 'Alice');
    await alice.ok('create', { room: 'evented' });
    await alice.ok('send', { room: 'evented', text: 'tell the backend' });
    const created = () => seen.filter((e) => e.type === 'message.created');
    await waitUntil(() => created().length >= 2, { what: 'message.created delivered twice (a failure, then its retry)', on: changed.on });
    const [first, retry] = created();
    expect(first?.id).toBe(retry?.id);
    expect(first?.data).toMatchObject({ room: 'evented', text: 'tell the backend' });
  });
});

describe('as a Fastify plugin', () => {
  it('serves under the prefix, next to the app routes, and closes with the app', async () => {
    const app = Fastify();
    app.get('/hello', async () => ({ hello: 'from fastify' }));
    app.post('/echo', async (req) => req.body);
    const dataDir = tempDir();
    cleanups.push(() => removeDir(dataDir));
    await app.register(roomcastPlugin, { prefix: '/chat', logLevel: 'silent', presenceGraceMs: 0, logger: silent, dataDir, apiKey: 'plugin-key-0123456789' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    let closed = false;
    cleanups.push(() => (closed ? undefined : app.close()));
    const port = (app.server.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/hello`)).json()).toEqual({ hello: 'from fastify' });
    // The app's body parsing is untouched outside the prefix.
    const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ a: 1 });
    expect(await (await fetch(`${base}/chat/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/chat/nothing-here`)).status).toBe(404);
    await roundTrip(`ws://127.0.0.1:${port}/chat/ws`);
    const posted = await fetch(`${base}/chat/api/rooms/lobby/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer plugin-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the backend' }),
    });
    expect(posted.status).toBe(201);
    const watcher = await connect(`ws://127.0.0.1:${port}/chat/ws`, 'Carol');
    await app.close();
    closed = true;
    expect((await watcher.closed).code).toBe(1001);
  });
});

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RoomcastServer } from '../src/server.js';
import type { ServerConfig } from '../src/config.js';
import { removeDir, TestClient } from './helpers.js';
import { capturedLog, copyOf, FATAL, garbleFrom, halveIndexLeaves, ROOM, roomWithMessages, type Fixture, type LogLine } from './sqlite-damage.js';

// A SQLite file with garbled pages must not be served as a short or empty room: the server
// starts, says in its log and on /readyz that the database is damaged, and refuses requests
// with `internal` (not `unavailable`: retrying cannot help) instead of answering from it.

const MESSAGES = 2000;
const API_KEY = 'integrity-test-api-key';
let fixture: Fixture;
const dirs: string[] = [];
const servers: RoomcastServer[] = [];

beforeAll(async () => {
  fixture = await roomWithMessages(MESSAGES);
  dirs.push(fixture.dir);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) removeDir(d);
});

async function start(dataDir: string, options: Partial<ServerConfig> = {}) {
  const { log, lines } = capturedLog();
  const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, ratePerSec: 0, apiKey: API_KEY, ...options }, log);
  servers.push(server);
  const ws = `ws://127.0.0.1:${server.port}/ws`;
  const readyz = async () => {
    const res = await fetch(`${server.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { store: string } };
  };
  const api = (init?: RequestInit) => fetch(`${server.url}/api/rooms/${ROOM}/messages`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' } });
  return { server, lines, ws, readyz, api, fatal: () => lines.filter((l: LogLine) => l.level >= FATAL) };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('a database damaged before the start', () => {
  it('starts, logs one fatal line, answers /readyz 503, and refuses every request', async () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    const file = join(dir, 'roomcast.db');
    garbleFrom(file, 5);
    const before = sha256(file);
    const s = await start(dir);

    const ready = await s.readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.store).toMatch(/^down: the database is damaged/);

    const fatal = s.fatal();
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toContain(file);
    expect(fatal[0]?.msg).toMatch(/integrity check .* found/);
    expect(fatal[0]?.msg).toContain('roomcast backup');
    expect(fatal[0]?.msg).toContain('roomcast doctor');
    // What SQLite said: the check's findings, or the error it stopped with.
    expect(fatal[0]?.problems).toEqual(expect.arrayContaining([expect.stringMatching(/page|SQLITE_CORRUPT/)]));

    // A client that asks for the whole backlog at once gets no message and no ok: the
    // connection closes with 1011 because its rooms cannot be loaded.
    const bob = await TestClient.open(s.ws, { name: 'Bob' });
    bob.send({ op: 'join', ref: 1, room: ROOM, since: 0 });
    bob.send({ op: 'history', ref: 2, room: ROOM });
    expect((await bob.closed).code).toBe(1011);
    expect(bob.frames.filter((f) => f.op === 'msg' || (f.op === 'reply' && f.ok))).toEqual([]);

    // The server-side API: history and sends refused with `internal` and a sentence, not an empty page.
    const history = await s.api();
    expect(history.status).toBe(500);
    expect(await history.json()).toEqual({ error: { code: 'internal', message: expect.stringMatching(/database is damaged; the operator has been told/) } });
    const send = await s.api({ method: 'POST', body: JSON.stringify({ text: 'into the void' }) });
    expect(send.status).toBe(500);
    expect(((await send.json()) as { error: { code: string } }).error.code).toBe('internal');

    await s.server.close();
    // Opened read-only: the damaged file is left as it was found, for the operator.
    expect(sha256(file)).toBe(before);
    expect(s.fatal()).toHaveLength(1);
  });

  it('is refused even when its pages still parse and queries would return short results', async () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    const file = join(dir, 'roomcast.db');
    halveIndexLeaves(file);
    // What a server without the check would serve: about half the messages, no error.
    const raw = new BetterSqlite3(file, { readonly: true });
    const served = raw.prepare('select seq from messages where room_id = ? and seq > 0 order by seq').pluck().all(ROOM);
    raw.close();
    expect(served.length).toBeLessThan(MESSAGES);

    const s = await start(dir);
    expect((await s.readyz()).status).toBe(503);
    expect(s.fatal()).toHaveLength(1);
    // Alice's guest token is still accepted (the key is read from the file), so she is told to
    // retry (1011), not to start over as a new guest (4401).
    const alice = await TestClient.open(s.ws, { guest: fixture.guestToken });
    alice.send({ op: 'join', ref: 1, room: ROOM, since: 0 });
    expect((await alice.closed).code).toBe(1011);
    expect(alice.frames.filter((f) => f.op === 'msg')).toEqual([]);
  });

  it.each(['full', 'off'] as const)('with --integrity-check %s, is found damaged at start as well', async (integrityCheck) => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    garbleFrom(join(dir, 'roomcast.db'), 5);
    const s = await start(dir, { integrityCheck });
    expect((await s.readyz()).status).toBe(503);
    const fatal = s.fatal();
    expect(fatal).toHaveLength(1);
    // off: no check, but the first read of a garbled page (the guest-token key) finds it.
    expect(fatal[0]?.foundBy).toBe(integrityCheck === 'off' ? 'query' : 'check');
  });
});

describe('a database damaged while serving', () => {
  it('turns the first corrupt read into `internal`, logs it once, and stops serving', async () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    const s = await start(dir);
    expect((await s.readyz()).status).toBe(200);
    const alice = await TestClient.connect(s.ws, { guest: fixture.guestToken });
    expect(alice.welcome.rooms.map((r) => r.id)).toEqual([ROOM]);
    const bob = await TestClient.connect(s.ws, { name: 'Bob' });

    // The pages of the messages have not been read since the start: the next read finds them garbled.
    garbleFrom(join(dir, 'roomcast.db'), 5);
    const history = await alice.request('history', { room: ROOM });
    expect(history).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/database is damaged/) } });

    const ready = await s.readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.store).toMatch(/damaged/);

    const send = await alice.request('send', { room: ROOM, text: 'after the damage' });
    expect(send).toMatchObject({ ok: false, error: { code: 'internal' } });
    const joined = await bob.request('join', { room: ROOM, since: 0 });
    expect(joined).toMatchObject({ ok: false, error: { code: 'internal' } });
    await bob.barrier().catch(() => {});
    expect(bob.frames.filter((f) => f.op === 'msg')).toEqual([]);

    const fatal = s.fatal();
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ foundBy: 'query', problems: [expect.stringMatching(/^SQLITE_CORRUPT/)] });
    expect(fatal[0]?.msg).toContain(join(dir, 'roomcast.db'));
    await alice.close();
    await bob.close();
  });

  it('keeps a busy file `unavailable` (retry) and ready, without the damage log', async () => {
    const dir = copyOf(fixture);
    dirs.push(dir);
    const s = await start(dir);
    const alice = await TestClient.connect(s.ws, { guest: fixture.guestToken });
    // Another connection holds the write lock past the server's busy timeout (5 s).
    const other = new BetterSqlite3(join(dir, 'roomcast.db'));
    other.exec('begin immediate');
    try {
      const send = await alice.request('send', { room: ROOM, text: 'blocked' });
      expect(send).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      expect((await s.readyz()).status).toBe(200);
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect((await alice.request('send', { room: ROOM, text: 'unblocked' })).ok).toBe(true);
    expect(s.fatal()).toEqual([]);
    await alice.close();
  }, 20_000);
});

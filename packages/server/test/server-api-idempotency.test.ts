import { createHash } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { IDEMPOTENCY_TTL_MS } from '../src/http/idempotency.js';
import { serverPerSuite, tempDir, type TestServer } from './helpers.js';
import { ADMIN_KEY, caller, keysFile, PUBLISH_KEY } from './server-api-kit.js';

// The server API's Idempotency-Key header, on SQLite and on PostgreSQL: a retry gets the first
// answer (and nothing is done twice), the same key with another request is a 422, a retry while
// the first runs a 409, keys are per caller, bounded in length, and kept a day.

function suite(name: string, options: () => Promise<Record<string, unknown>>) {
  describe(`Idempotency-Key on ${name}`, () => {
    const server: TestServer = serverPerSuite(async () => ({ apiKey: ADMIN_KEY, apiKeys: keysFile(), httpRate: 0, ratePerSec: 0, ...(await options()) }));
    const call = (path: string, init?: Parameters<ReturnType<typeof caller>>[1]) => caller(server)(path, init);
    const idem = (key: string) => ({ 'idempotency-key': key });

    it('answers a retry with the first response, marked replayed, and does the work once', async () => {
      await call('/api/rooms', { method: 'POST', body: { id: 'idem-room' } });
      const body = { text: 'once only' };
      const first = await call('/api/rooms/idem-room/messages', { method: 'POST', body, headers: idem('k-1') });
      expect(first).toMatchObject({ status: 201, body: { seq: 1 } });
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const retry = await call('/api/rooms/idem-room/messages', { method: 'POST', body, headers: idem('k-1') });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect((await call('/api/rooms/idem-room/messages')).body.messages).toHaveLength(1);
      // Creating a room twice with one key: the second gets the 201, not room_exists.
      const made = await call('/api/rooms', { method: 'POST', body: { id: 'idem-made' }, headers: idem('k-room') });
      const again = await call('/api/rooms', { method: 'POST', body: { id: 'idem-made' }, headers: idem('k-room') });
      expect([made.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
      // A DELETE retried answers as the first one did, not 404.
      const gone = await call('/api/rooms/idem-made', { method: 'DELETE', headers: idem('k-del') });
      expect((await call('/api/rooms/idem-made', { method: 'DELETE', headers: idem('k-del') })).body).toEqual(gone.body);
    });

    it('refuses the same key with another request (422), and keeps keys per caller', async () => {
      await call('/api/rooms', { method: 'POST', body: { id: 'idem-mis' } });
      expect((await call('/api/rooms/idem-mis/messages', { method: 'POST', body: { text: 'a' }, headers: idem('k-2') })).status).toBe(201);
      const other = await call('/api/rooms/idem-mis/messages', { method: 'POST', body: { text: 'b' }, headers: idem('k-2') });
      expect(other).toMatchObject({ status: 422, body: { error: { code: 'bad_request', message: expect.stringMatching(/Idempotency-Key "k-2" was used for another request/) } } });
      const path = await call('/api/rooms/idem-mis', { method: 'PATCH', body: { text: 'a' }, headers: idem('k-2') });
      expect(path.status).toBe(422);
      // Another key holder's k-2 is its own.
      const theirs = await call('/api/rooms/idem-mis/messages', { method: 'POST', key: PUBLISH_KEY, body: { text: 'b' }, headers: idem('k-2') });
      expect(theirs).toMatchObject({ status: 201, body: { seq: 2 } });
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    });

    it('answers 409 while the first request with the key still runs, and runs it once when retried at once', async () => {
      await call('/api/rooms', { method: 'POST', body: { id: 'idem-busy' } });
      // Another node is in the middle of it: its claim is in the shared table, not finished.
      const claim = await server.store.idempotency().claim({ caller: 'key:api-key', key: 'k-busy', method: 'POST', path: '/api/rooms/idem-busy/messages', bodyHash: createHash('sha256').update(JSON.stringify({ text: 'x' })).digest('hex'), ts: Date.now() }, 0);
      expect(claim).toEqual({ state: 'new' });
      const busy = await call('/api/rooms/idem-busy/messages', { method: 'POST', body: { text: 'x' }, headers: idem('k-busy') });
      expect(busy).toMatchObject({ status: 409, body: { error: { message: expect.stringMatching(/still running/) } } });

      const body = { text: 'raced' };
      const answers = await Promise.all([1, 2, 3, 4].map(() => call('/api/rooms/idem-busy/messages', { method: 'POST', body, headers: idem('k-race') })));
      const kinds = answers.map((a) => (a.status === 409 ? 'running' : a.headers.get('idempotent-replayed') ? 'replayed' : `ran ${a.status}`));
      expect(kinds.filter((k) => k === 'ran 201')).toHaveLength(1);
      expect(kinds.every((k) => ['ran 201', 'replayed', 'running'].includes(k))).toBe(true);
      expect((await call('/api/rooms/idem-busy/messages')).body.messages.map((m: { text: string }) => m.text)).toEqual(['raced']);
    });

    it('bounds the key, keeps a refusal as the answer too, and forgets answers after a day', async () => {
      await call('/api/rooms', { method: 'POST', body: { id: 'idem-misc' } });
      const long = await call('/api/rooms/idem-misc/messages', { method: 'POST', body: { text: 'x' }, headers: idem('k'.repeat(256)) });
      expect(long).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
      expect((await call('/api/rooms/idem-misc/messages', { method: 'POST', body: { text: 'x' }, headers: idem('k'.repeat(255)) })).status).toBe(201);

      // A refused request's answer is kept like any other (a 404 stays a 404 for that key).
      expect((await call('/api/rooms/idem-none/messages', { method: 'POST', body: { text: 'x' }, headers: idem('k-404') })).status).toBe(404);
      const again = await call('/api/rooms/idem-none/messages', { method: 'POST', body: { text: 'x' }, headers: idem('k-404') });
      expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([404, 'true']);

      const log = server.store.idempotency();
      expect(await log.prune(Date.now() - IDEMPOTENCY_TTL_MS)).toBe(0);
      expect(await log.prune(Date.now() + 1)).toBeGreaterThan(0);
      const fresh = await call('/api/rooms/idem-misc/messages', { method: 'POST', body: { text: 'x' }, headers: idem('k'.repeat(255)) });
      expect([fresh.status, fresh.headers.get('idempotent-replayed'), fresh.body.seq]).toEqual([201, null, 2]);
    });
  });
}

suite('SQLite', async () => ({}));
suite('PostgreSQL', async () => ({ postgresUrl: await freshDatabase(inject('pgUrl'), 'idem'), redisUrl: inject('redisUrl'), nodeId: `idem-${process.pid}` }));

describe('Idempotency-Key and failures of the server', () => {
  it('keeps no 5xx answer: the retry runs again', async () => {
    const { default: Fastify } = await import('fastify');
    const { openSqliteStore } = await import('../src/store/sqlite.js');
    const { idempotentWrites } = await import('../src/http/idempotency.js');
    const store = await openSqliteStore({ dataDir: tempDir(), sync: 'normal' });
    const app = Fastify();
    let runs = 0;
    app.addHook('onRequest', async (req) => {
      req.adminCaller = { kind: 'key', name: 't', scope: 'admin' };
    });
    idempotentWrites(app, store.idempotency(), { warn() {} } as never);
    app.post('/work', async (_req, reply) => {
      runs++;
      return runs === 1 ? reply.code(503).send({ error: { code: 'unavailable', message: 'not now' } }) : { done: runs };
    });
    try {
      const send = () => app.inject({ method: 'POST', url: '/work', headers: { 'idempotency-key': 'f-1', 'content-type': 'application/json' }, payload: '{}' });
      expect((await send()).statusCode).toBe(503);
      const second = await send();
      expect([second.statusCode, second.json(), second.headers['idempotent-replayed']]).toEqual([200, { done: 2 }, undefined]);
      const third = await send();
      expect([third.statusCode, third.json(), third.headers['idempotent-replayed']]).toEqual([200, { done: 2 }, 'true']);
      expect(runs).toBe(2);
    } finally {
      await app.close();
      await store.close();
    }
  });
});

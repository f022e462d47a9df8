import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, serverPerSuite, startTestServer, tempDir, TestClient, type TestServer } from './helpers.js';
import { asymmetricIssuer, hs256, SECRET, unsigned, type AsymmetricIssuer } from './tokens.js';

/** Connects with a token in the URL; resolves with the welcome or the close. */
async function tryToken(server: TestServer, token: string): Promise<{ welcome?: TestClient; closed?: { code: number; reason: string } }> {
  const c = await TestClient.open(server.wsUrl, { token });
  const first = await Promise.race([c.next('welcome'), c.closed]);
  if ('op' in first) {
    c.welcome = first as unknown as TestClient['welcome'];
    return { welcome: c };
  }
  return { closed: first };
}

describe('JWT: HS256 secret, issuer and audience', () => {
  const server = serverPerSuite({ auth: 'jwt', jwtSecret: SECRET, jwtIssuer: 'https://auth.example', jwtAudience: 'roomcast' });
  const good = { sub: 'alice', name: 'Alice', iss: 'https://auth.example', aud: 'roomcast' };

  it('makes a valid token\'s sub and name the user', async () => {
    const { welcome } = await tryToken(server, await hs256(good));
    expect(welcome?.frames).toEqual([]);
    const c = await TestClient.connect(server.wsUrl, { token: await hs256(good) });
    expect(c.welcome.user).toEqual({ id: 'alice', name: 'Alice' });
    expect(c.welcome.guestToken).toBeUndefined();
    // Authorization header works as well as the query.
    const h = await TestClient.connect(server.wsUrl, {}, { headers: { authorization: `Bearer ${await hs256({ ...good, sub: 'bob', name: 'Bob' })}` } });
    expect(h.welcome.user).toEqual({ id: 'bob', name: 'Bob' });
  });

  const attacks: Array<[string, () => Promise<string> | string, RegExp]> = [
    ['expired', () => hs256({ ...good, expIn: -60 }), /expired/],
    ['not yet valid', () => hs256({ ...good, nbfIn: 600 }), /not valid yet/],
    ['wrong signature', () => hs256(good, 'another-secret-that-is-32-chars-long!!'), /signature/],
    ['wrong issuer', () => hs256({ ...good, iss: 'https://evil.example' }), /issuer/],
    ['wrong audience', () => hs256({ ...good, aud: 'other-app' }), /audience/],
    ['alg none', () => unsigned(good), /algorithm|not a valid/],
    ['no exp', () => hs256({ ...good, expIn: null }), /exp/],
    ['no sub', () => hs256({ name: 'Nobody', iss: good.iss, aud: good.aud }), /sub/],
    ['garbage', () => 'not.a.jwt', /not a valid/],
  ];
  for (const [name, make, reason] of attacks) {
    it(`refuses a token that is ${name} with 4401 and a reason`, async () => {
      const { closed } = await tryToken(server, await make());
      expect(closed?.code).toBe(4401);
      expect(closed?.reason).toMatch(reason);
    });
  }

  it('refuses guests: without a token the first frame must be auth', async () => {
    const c = await TestClient.open(server.wsUrl, { name: 'Mallory' });
    c.send({ op: 'join', ref: 1, room: 'lobby' });
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toContain('"op":"auth"');
    expect(c.frames).toEqual([]);
  });

  it('accepts in-band auth as the first frame, and answers frames sent right behind it', async () => {
    const c = await TestClient.open(server.wsUrl);
    c.send({ op: 'auth', ref: 'a', token: await hs256(good) });
    c.send({ op: 'ping', ref: 'p' });
    expect(await c.next('reply', (f) => f.ref === 'a')).toMatchObject({ ok: true, user: { id: 'alice', name: 'Alice' }, exp: expect.any(Number) });
    expect((await c.next('welcome')).user).toEqual({ id: 'alice', name: 'Alice' });
    expect(await c.next('reply', (f) => f.ref === 'p')).toMatchObject({ ok: true });
  });

  it('closes with 4401 on a bad in-band token, sending nothing', async () => {
    const c = await TestClient.open(server.wsUrl);
    c.send({ op: 'auth', token: await hs256({ ...good, expIn: -60 }) });
    expect((await c.closed).code).toBe(4401);
    expect(c.frames).toEqual([]);
  });

  it('refuses a refresh token for another user, and a garbage refresh, keeping the connection', async () => {
    const c = await TestClient.connect(server.wsUrl, { token: await hs256(good) });
    const other = await c.request('auth', { token: await hs256({ ...good, sub: 'mallory' }) });
    expect(other).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(other.error.message).toContain('mallory');
    expect(await c.request('auth', { token: 'junk' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    await c.barrier();
  });
});

describe('JWT: in-band timeout, expiry and refresh', () => {
  const server = serverPerSuite({ auth: 'jwt', jwtSecret: SECRET, authTimeoutMs: 300 });

  it('closes with 4408 when no auth frame comes in time', async () => {
    const c = await TestClient.open(server.wsUrl);
    const closed = await c.closed;
    expect(closed.code).toBe(4408);
    expect(c.frames).toEqual([]);
  });

  it('tells an expiring connection and closes it with 4401, unless it refreshed in time', async () => {
    // Both tokens expire at the same second; only one connection refreshes.
    const exp = 2;
    const stale = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'stale', expIn: exp }) });
    const fresh = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'fresh', expIn: exp }) });
    const refreshed = await fresh.ok('auth', { token: await hs256({ sub: 'fresh', expIn: 3600 }) });
    expect(refreshed.exp).toBeGreaterThan(Date.now() + 3_000_000);
    const err = await stale.next('error');
    expect(err.error).toMatchObject({ code: 'unauthorized' });
    expect((await stale.closed).code).toBe(4401);
    // The refreshed connection's old expiry has passed too: it is still served.
    await fresh.barrier();
    expect(fresh.take('error')).toEqual([]);
  });
});

describe('JWT: public keys, key sets and algorithm confusion', () => {
  const dir = tempDir();
  let rs: AsymmetricIssuer;
  let es: AsymmetricIssuer;
  let jwks: Server;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    rs = await asymmetricIssuer('RS256', dir);
    es = await asymmetricIssuer('ES256', dir, 'k2');
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [es.jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    jwks.close();
    removeDir(dir);
  });

  it('verifies RS256 with a public key file, and refuses HS256 signed with that public key', async () => {
    const server = await startTestServer({ auth: 'jwt', jwtPublicKey: rs.publicFile });
    servers.push(server);
    expect((await tryToken(server, await rs.sign({ sub: 'rita', name: 'Rita' }))).welcome?.welcome.user).toEqual({ id: 'rita', name: 'Rita' });
    // The classic confusion attack: the public key (known to all) used as an HMAC secret.
    const confused = await hs256({ sub: 'rita', name: 'Rita' }, rs.publicPem);
    const { closed } = await tryToken(server, confused);
    expect(closed?.code).toBe(4401);
    expect(closed?.reason).toMatch(/algorithm/);
    expect((await tryToken(server, await es.sign({ sub: 'eve' }))).closed?.code).toBe(4401);
  });

  it('verifies ES256 through a JWKS URL and refuses keys that are not in it', async () => {
    const server = await startTestServer({ auth: 'jwt', jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` });
    servers.push(server);
    expect((await tryToken(server, await es.sign({ sub: 'erin', name: 'Erin' }))).welcome?.welcome.user).toEqual({ id: 'erin', name: 'Erin' });
    expect((await tryToken(server, await rs.sign({ sub: 'rita' }))).closed?.code).toBe(4401);
    expect((await tryToken(server, await hs256({ sub: 'hank' }))).closed?.code).toBe(4401);
  });
});

describe('auth modes', () => {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('both: guests and JWT users side by side; a bad token is still refused', async () => {
    const server = await startTestServer({ auth: 'both', jwtSecret: SECRET });
    servers.push(server);
    const guest = await server.connect({ name: 'Guest' });
    expect(guest.welcome.guestToken).toEqual(expect.any(String));
    const user = await TestClient.connect(server.wsUrl, { token: await hs256({ sub: 'u1', name: 'Una' }) });
    expect(user.welcome.user).toEqual({ id: 'u1', name: 'Una' });
    expect((await tryToken(server, await hs256({ sub: 'u1', expIn: -60 }))).closed?.code).toBe(4401);
  });

  it('guest: a token is refused rather than silently ignored', async () => {
    const server = await startTestServer();
    servers.push(server);
    const { closed } = await tryToken(server, await hs256({ sub: 'x' }));
    expect(closed?.code).toBe(4401);
    expect(closed?.reason).toContain('guests only');
    const g = await server.connect({ name: 'G' });
    expect(await g.request('auth', { token: 'x' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('refuses to start with a jwt mode and no key, or a short secret', async () => {
    await expect(startTestServer({ auth: 'jwt' })).rejects.toThrow(/--jwt-secret, --jwt-public-key or --jwks-url/);
    await expect(startTestServer({ auth: 'jwt', jwtSecret: 'short' })).rejects.toThrow(/at least 32/);
  });
});

import { describe, expect, it } from 'vitest';
import { FILE_KEY_TTL } from '@roomcast/protocol';
import { LinkKeys } from '../src/auth/link-keys.js';
import { binaryFrame, serverPerSuite, TestClient, type TestServer } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

// File keys: `filekey` gives a key that fetches the user's files (?key=) for an hour and does
// nothing else, so file URLs need not carry the sign-in token.

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
let nextRoom = 0;

/** Alice's room with one picture in it: its file URL path. */
async function roomWithFile(alice: TestClient): Promise<{ room: string; path: string }> {
  const room = `pics-${++nextRoom}`;
  await alice.ok('create', { room });
  alice.sendRaw(binaryFrame({ op: 'send', ref: 'file', room, mime: 'image/png' }, PNG));
  const r = await alice.next('reply', (f) => f.ref === 'file');
  expect(r.ok).toBe(true);
  return { room, path: `/api/rooms/${room}/files/${r.seq as number}` };
}

async function get(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; code?: string; message?: string; until?: number | null; bytes?: number[] }> {
  const res = await fetch(`${server.url}${path}`, { headers });
  if (res.status === 200) return { status: 200, bytes: [...new Uint8Array(await res.arrayBuffer())] };
  const body = (await res.json()) as { error: { code: string; message: string; until?: number | null } };
  return { status: res.status, code: body.error.code, message: body.error.message, ...(body.error.until !== undefined ? { until: body.error.until } : {}) };
}

describe('file keys', () => {
  const server = serverPerSuite();

  it('are an hour long and fetch the files of the rooms the user is a member of', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { path } = await roomWithFile(alice);
    const before = Date.now();
    const r = await alice.ok('filekey');
    expect(r.key).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(r.expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + FILE_KEY_TTL * 1000);
    expect(r.expires).toBeLessThanOrEqual(Date.now() + FILE_KEY_TTL * 1000);
    expect(await get(server, `${path}?key=${encodeURIComponent(r.key as string)}`)).toEqual({ status: 200, bytes: [...PNG] });
    // The key names the user, not the sign-in: it carries no token.
    expect(r.key).not.toContain(alice.welcome.guestToken as string);
  });

  it('still leave the member check to the fetch: a non-member, or one who left, gets 403', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const bob = await server.connect({ name: 'Bob' });
    const { room, path } = await roomWithFile(alice);
    const bobsKey = (await bob.ok('filekey')).key as string;
    expect(await get(server, `${path}?key=${encodeURIComponent(bobsKey)}`)).toMatchObject({ status: 403, code: 'not_member' });
    await bob.ok('join', { room });
    expect(await get(server, `${path}?key=${encodeURIComponent(bobsKey)}`)).toMatchObject({ status: 200 });
    await bob.ok('leave', { room });
    expect(await get(server, `${path}?key=${encodeURIComponent(bobsKey)}`)).toMatchObject({ status: 403, code: 'not_member' });
  });

  it('expire: an expired key gets 401 saying to get a new one', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { path } = await roomWithFile(alice);
    const keys = await LinkKeys.open(server.store);
    const expired = await keys.fileKeyFor(alice.userId, Date.now(), -60);
    const r = await get(server, `${path}?key=${encodeURIComponent(expired.key)}`);
    expect(r).toMatchObject({ status: 401, code: 'unauthorized', message: expect.stringContaining('expired') });
    // Made by the same module with a future exp, it works: the refusal was the expiry.
    expect(await get(server, `${path}?key=${encodeURIComponent((await keys.fileKeyFor(alice.userId, Date.now())).key)}`)).toMatchObject({ status: 200 });
  });

  it('refuse what is not a file key of this server: a guest token, an invite link, garbage', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { room, path } = await roomWithFile(alice);
    const invite = (await alice.ok('share', { room })).invite as string;
    for (const key of [alice.welcome.guestToken as string, invite, 'garbage']) {
      expect(await get(server, `${path}?key=${encodeURIComponent(key)}`)).toMatchObject({ status: 401, code: 'unauthorized', message: expect.stringContaining('file key is not valid') });
    }
  });

  it('leave the sign-in ways working: Authorization: Bearer, and the deprecated ?token=', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { path } = await roomWithFile(alice);
    const token = alice.welcome.guestToken as string;
    expect(await get(server, path, { authorization: `Bearer ${token}` })).toMatchObject({ status: 200 });
    expect(await get(server, `${path}?token=${encodeURIComponent(token)}`)).toMatchObject({ status: 200 });
    expect(await get(server, path)).toMatchObject({ status: 401, message: expect.stringContaining('?key=') });
  });

  it('cannot sign in as a guest', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const key = (await alice.ok('filekey')).key as string;
    const c = await TestClient.open(server.wsUrl, { guest: key });
    expect((await c.closed).code).toBe(4401);
    // Nor as a token on the file route.
    const { path } = await roomWithFile(alice);
    expect(await get(server, path, { authorization: `Bearer ${key}` })).toMatchObject({ status: 401 });
    expect(await get(server, `${path}?token=${encodeURIComponent(key)}`)).toMatchObject({ status: 401 });
  });
});

describe('file keys on a server that takes tokens', () => {
  const server = serverPerSuite({ auth: 'both', jwtSecret: SECRET });

  it('cannot sign in as a token: not on the upgrade, not in an in-band auth', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const key = (await alice.ok('filekey')).key as string;
    const upgrade = await TestClient.open(server.wsUrl, { token: key });
    expect((await upgrade.closed).code).toBe(4401);
    const header = await TestClient.open(server.wsUrl, {}, { headers: { authorization: `Bearer ${key}` } });
    expect((await header.closed).code).toBe(4401);
    expect((await alice.request('auth', { token: key })).error).toMatchObject({ code: 'unauthorized' });
  });

  it("fetch any room's files for an admin, who counts as a member everywhere (as for history)", async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { path } = await roomWithFile(alice);
    const adminToken = await hs256({ sub: 'root', name: 'Root', admin: true });
    const admin = await server.connect({ token: adminToken });
    const key = (await admin.ok('filekey')).key as string;
    expect(await get(server, `${path}?key=${encodeURIComponent(key)}`)).toEqual({ status: 200, bytes: [...PNG] });
    expect(await get(server, path, { authorization: `Bearer ${adminToken}` })).toMatchObject({ status: 200 });
    // Not an admin: the member check holds, by key and by token.
    const userToken = await hs256({ sub: 'pat', name: 'Pat' });
    const pat = await server.connect({ token: userToken });
    expect(await get(server, `${path}?key=${encodeURIComponent((await pat.ok('filekey')).key as string)}`)).toMatchObject({ status: 403, code: 'not_member' });
    expect(await get(server, path, { authorization: `Bearer ${userToken}` })).toMatchObject({ status: 403, code: 'not_member' });
  });

  it('are refused, with the sign-in token, while the user is banned from the server (403 banned, with until)', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { room, path } = await roomWithFile(alice);
    const token = await hs256({ sub: 'fk-banned', name: 'Ban' });
    const bob = await server.connect({ token });
    await bob.ok('join', { room });
    const key = `${path}?key=${encodeURIComponent((await bob.ok('filekey')).key as string)}`;
    expect(await get(server, key)).toMatchObject({ status: 200 });
    const until = Date.now() + 3_600_000;
    await server.core.moderation.banUser('fk-banned', { until });
    const banned = { status: 403, code: 'banned', until };
    expect(await get(server, key)).toMatchObject(banned);
    expect(await get(server, path, { authorization: `Bearer ${token}` })).toMatchObject(banned);
    expect(await get(server, `${path}?token=${encodeURIComponent(token)}`)).toMatchObject(banned);
    await server.core.moderation.unbanUser('fk-banned');
    expect(await get(server, key)).toMatchObject({ status: 200 });
  });

  it('take the seq in digits only: another spelling of the number is a 400, not the same file', async () => {
    const alice = await server.connect({ name: 'Alice' });
    const { path } = await roomWithFile(alice);
    const key = encodeURIComponent((await alice.ok('filekey')).key as string);
    const base = path.replace(/\/\d+$/, '');
    expect(await get(server, `${path}?key=${key}`)).toMatchObject({ status: 200 });
    for (const seq of ['0x1', '1e0', '%201', '01', '+1', '1.0', '0', '99999999999999999']) {
      expect(await get(server, `${base}/${seq}?key=${key}`), seq).toMatchObject({ status: 400, code: 'bad_request' });
    }
  });
});

import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import type { ServerConfig } from '../src/config.js';
import { removeDir, tempDir, TestClient } from './helpers.js';
import { hs256, SECRET } from './tokens.js';

// Tutorial clients send their token in a `token:` (or `x-token:`) header, which roomcast does not
// read. On `--auth both` they become guests, as before, but the welcome and the log now say why;
// on `--auth jwt` the close reason names the header.

interface Line {
  level: string;
  fields: Record<string, unknown>;
  msg: string | undefined;
}

/** A real pino logger (fastify wants one) whose JSON lines land in `lines`. */
function recordingLogger(lines: Line[]) {
  const stream = {
    write(json: string) {
      const { level, msg, ...fields } = JSON.parse(json) as { level: number; msg?: string };
      lines.push({ level: pino.levels.labels[level] ?? String(level), fields, msg });
    },
  };
  return pino({ level: 'info' }, stream);
}

const started: Array<{ close(): Promise<void>; dataDir: string }> = [];
afterAll(async () => {
  for (const s of started.splice(0)) {
    await s.close();
    removeDir(s.dataDir);
  }
});

async function serve(options: Partial<ServerConfig>) {
  const lines: Line[] = [];
  const dataDir = tempDir();
  const server = await startServer({ port: 0, host: '127.0.0.1', presenceGraceMs: 0, dataDir, ...options }, recordingLogger(lines));
  started.push({ close: () => server.close(), dataDir });
  return { wsUrl: `ws://127.0.0.1:${server.port}/ws`, lines, warnings: () => lines.filter((l) => l.level === 'warn' && /header/.test(l.msg ?? '')) };
}

describe('a token in a "token" header on --auth both', () => {
  it('connects a guest, with a welcome warning that says how to send the token, and logs a warning', async () => {
    const s = await serve({ auth: 'both', jwtSecret: SECRET });
    const token = await hs256({ sub: 'alice', name: 'Alice' });
    const c = await TestClient.connect(s.wsUrl, { name: 'Alice' }, { headers: { token } });
    expect(c.welcome.user).toMatchObject({ name: 'Alice' });
    expect(c.welcome.user.id).toMatch(/^u_/);
    expect(c.welcome.guestToken).toEqual(expect.any(String));
    expect(c.welcome.warnings).toEqual([
      'the "token" header is not read, so you are connected as a guest; send the JWT as "Authorization: Bearer TOKEN" or ?token=TOKEN, or in an {"op":"auth"} frame',
    ]);
    const [line, ...more] = s.warnings();
    expect(more).toEqual([]);
    expect(line?.msg).toContain('"token" header, which roomcast does not read (it was connected as a guest)');
    expect(line?.fields).toMatchObject({ header: 'token', auth: 'both' });
    await c.close();
  });

  it('names an "x-token" header too, and throttles the log line', async () => {
    const s = await serve({ auth: 'both', jwtSecret: SECRET });
    const token = await hs256({ sub: 'bob' });
    for (let i = 0; i < 3; i++) {
      const c = await TestClient.connect(s.wsUrl, {}, { headers: { 'x-token': token } });
      expect(c.welcome.warnings?.[0]).toMatch(/^the "x-token" header is not read, so you are connected as a guest/);
      await c.close();
    }
    expect(s.warnings()).toHaveLength(1);
  });

  it('says nothing when the token also comes the way roomcast reads it, or with no header at all', async () => {
    const s = await serve({ auth: 'both', jwtSecret: SECRET });
    const token = await hs256({ sub: 'carol', name: 'Carol' });
    const bearer = await TestClient.connect(s.wsUrl, {}, { headers: { token, authorization: `Bearer ${token}` } });
    expect(bearer.welcome.user).toEqual({ id: 'carol', name: 'Carol' });
    expect(bearer.welcome.warnings).toBeUndefined();
    const query = await TestClient.connect(s.wsUrl, { token }, { headers: { token } });
    expect(query.welcome.user.id).toBe('carol');
    expect(query.welcome.warnings).toBeUndefined();
    const guest = await TestClient.connect(s.wsUrl, { name: 'Dave' });
    expect(guest.welcome.warnings).toBeUndefined();
    expect(s.warnings()).toEqual([]);
    await Promise.all([bearer.close(), query.close(), guest.close()]);
  });
});

describe('a token in a "token" header elsewhere', () => {
  it('--auth guest: a guest, told that this server takes guests only', async () => {
    const s = await serve({});
    const c = await TestClient.connect(s.wsUrl, { name: 'Erin' }, { headers: { token: 'anything' } });
    expect(c.welcome.warnings).toEqual(['the "token" header is not read, and this server accepts guests only: you are connected as a guest']);
    await c.close();
  });

  it('--auth jwt: refused as before, the close reason naming the header', async () => {
    const s = await serve({ auth: 'jwt', jwtSecret: SECRET, authTimeoutMs: 200 });
    const token = await hs256({ sub: 'frank' });
    const talker = await TestClient.open(s.wsUrl, {}, { headers: { token } });
    talker.send({ op: 'join', room: 'lobby' });
    expect(await talker.closed).toEqual({
      code: 4401,
      reason: 'the first frame must be {"op":"auth","token":"..."}; the "token" header is not read: use Authorization: Bearer',
    });
    const silent = await TestClient.open(s.wsUrl, {}, { headers: { 'x-token': token } });
    expect(await silent.closed).toEqual({ code: 4408, reason: 'no {"op":"auth"} frame within 200 ms; the "x-token" header is not read: use Authorization: Bearer' });
    expect(s.warnings().map((l) => l.msg)).toEqual([
      expect.stringContaining('"token" header, which roomcast does not read (it must still authenticate)'),
      expect.stringContaining('"x-token" header, which roomcast does not read (it must still authenticate)'),
    ]);
    // An auth frame still works: the header only changes what the refusal says.
    const late = await TestClient.open(s.wsUrl, {}, { headers: { token } });
    late.send({ op: 'auth', token });
    expect((await late.next('welcome')).user).toMatchObject({ id: 'frank' });
    await late.close();
  });
});

import { spawnSync } from 'node:child_process';
import { jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, spawnServe, type ChildServer } from './child-server.js';
import { removeDir, tempDir, TestClient } from './helpers.js';

// The real `roomcast` command in a child process (built JS, as `npx roomcast` runs it).
type Running = ChildServer;
const serve = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnServe(args, { env });



describe('roomcast command', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  afterEach(() => {
    for (const r of running.splice(0)) r.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it('prints help listing every flag with its environment variable and default', () => {
    const res = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    for (const [flag, env] of [
      ['--port', 'ROOMCAST_PORT'],
      ['--host', 'ROOMCAST_HOST'],
      ['--data', 'ROOMCAST_DATA'],
      ['--heartbeat', 'ROOMCAST_HEARTBEAT'],
      ['--max-text', 'ROOMCAST_MAX_TEXT'],
      ['--max-binary', 'ROOMCAST_MAX_BINARY'],
      ['--rate', 'ROOMCAST_RATE'],
      ['--max-conn-per-ip', 'ROOMCAST_MAX_CONN_PER_IP'],
      ['--log-level', 'ROOMCAST_LOG_LEVEL'],
    ]) {
      expect(res.stdout).toMatch(new RegExp(`${flag} .*${env}.*default: `));
    }
  });

  it('mints a token that verifies with the configured secret', async () => {
    const secret = 'cli-secret-that-is-at-least-32-characters';
    const res = spawnSync(process.execPath, [BIN, 'token', '--sub', 'alice', '--name', 'Alice', '--rooms', 'team:*,lobby', '--ttl', '1h'], {
      encoding: 'utf8',
      env: { ...process.env, ROOMCAST_JWT_SECRET: secret, ROOMCAST_JWT_ISSUER: 'https://auth.example' },
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const { payload, protectedHeader } = await jwtVerify(res.stdout.trim(), new TextEncoder().encode(secret), { issuer: 'https://auth.example' });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'alice', name: 'Alice', rooms: ['team:*', 'lobby'], iss: 'https://auth.example' });
    expect((payload.exp as number) - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    const noSecret = spawnSync(process.execPath, [BIN, 'token', '--sub', 'a'], { encoding: 'utf8', env: { ...process.env, ROOMCAST_JWT_SECRET: '' } });
    expect(noSecret.status).toBe(2);
    expect(noSecret.stderr).toContain('--jwt-secret');
    const badTtl = spawnSync(process.execPath, [BIN, 'token', '--sub', 'a', '--ttl', 'soon'], { encoding: 'utf8', env: { ...process.env, ROOMCAST_JWT_SECRET: secret } });
    expect(badTtl.status).toBe(2);
    expect(badTtl.stderr).toContain('--ttl');
  });

  it('refuses bad flags with a message naming them and exit code 2', () => {
    const bad = spawnSync(process.execPath, [BIN, 'serve', '--port', 'abc'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--port must be a whole number');
    const unknown = spawnSync(process.execPath, [BIN, 'serve', '--colour', 'red'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--colour');
    const env = spawnSync(process.execPath, [BIN, 'serve'], { encoding: 'utf8', env: { ...process.env, ROOMCAST_LOG_LEVEL: 'loud' } });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('ROOMCAST_LOG_LEVEL');
  });

  it('serves on port 0, prints its URLs, stops on SIGTERM with 1001 to clients, and keeps history across the restart', async () => {
    const data = tempDir();
    dirs.push(data);
    const first = await serve(['--port', '0', '--host', '127.0.0.1', '--data', data]);
    running.push(first);
    expect(first.stdout()).toContain(`ws://127.0.0.1:${first.port}/ws`);
    const health = await fetch(`http://127.0.0.1:${first.port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });

    const alice = await TestClient.connect(`ws://127.0.0.1:${first.port}/ws`, { name: 'Alice' });
    await alice.ok('create', { room: 'kept' });
    const ack = await alice.ok('send', { room: 'kept', text: 'before restart' });
    first.child.kill('SIGTERM');
    expect((await alice.closed).code).toBe(1001);
    expect(await first.exited).toEqual([0, null]);

    // Settings from the environment this time.
    const second = await serve([], { ROOMCAST_PORT: '0', ROOMCAST_HOST: '127.0.0.1', ROOMCAST_DATA: data });
    running.push(second);
    const back = await TestClient.connect(`ws://127.0.0.1:${second.port}/ws`, { guest: alice.welcome.guestToken as string });
    expect(back.userId).toBe(alice.userId);
    const history = await back.ok('history', { room: 'kept' });
    expect(history.messages).toEqual([expect.objectContaining({ seq: ack.seq, ts: ack.ts, text: 'before restart' })]);
    second.child.kill('SIGINT');
    expect((await back.closed).code).toBe(1001);
    expect(await second.exited).toEqual([0, null]);
  });

  it('loses no acknowledged message when killed with SIGKILL', async () => {
    const data = tempDir();
    dirs.push(data);
    const first = await serve(['--port', '0', '--host', '127.0.0.1', '--data', data, '--rate', '0']);
    running.push(first);
    const alice = await TestClient.connect(`ws://127.0.0.1:${first.port}/ws`, { name: 'Alice' });
    await alice.ok('create', { room: 'crash' });
    const acked: number[] = [];
    let firstAck!: () => void;
    const gotFirstAck = new Promise<void>((resolve) => (firstAck = resolve));
    // Keep sending; kill the server while sends are in flight.
    const sends = Array.from({ length: 300 }, (_, i) =>
      alice.request('send', { room: 'crash', text: `n${i}` }).then((r) => {
        if (r.ok) acked.push(r.seq as number);
        firstAck();
      }, () => {}),
    );
    await gotFirstAck;
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.allSettled(sends);

    const second = await serve(['--port', '0', '--host', '127.0.0.1', '--data', data]);
    running.push(second);
    const back = await TestClient.connect(`ws://127.0.0.1:${second.port}/ws`, { guest: alice.welcome.guestToken as string });
    await back.ok('join', { room: 'crash', since: 0, history: 0 });
    const lastSeq = back.welcome.rooms.find((r) => r.id === 'crash')?.lastSeq ?? 0;
    const stored: number[] = [];
    for (let i = 0; i < lastSeq; i++) stored.push((await back.next('msg')).seq);
    expect(stored).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    for (const seq of acked) expect(stored).toContain(seq);
    expect(acked.length).toBeGreaterThan(0);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../../../test/pg.js';
import { freePort } from '../../../test/services.js';
import { startTestServer } from './helpers.js';

// Start-up against a Redis that cannot be used (issue 17, item 7): the node must fail fast
// with a sentence that says what is wrong (and never show the URL's password), not hang with
// no output or start "ready" on the wrong database.

/** A TCP server that accepts connections and never answers (a wrong port, a stuck proxy). */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

/** A Redis with a password (test/services.ts starts them without). */
async function redisWithPassword(password: string): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-redis-auth-'));
  const port = await freePort();
  const proc: ChildProcess = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', password], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()).includes('Ready to accept connections') && resolve());
    proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-300)}`)));
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}

/** How startServer fails (with how long it took): it must not start. */
async function failedStart(postgresUrl: string, redisUrl: string): Promise<{ message: string; ms: number }> {
  const t0 = Date.now();
  const started = await startTestServer({ postgresUrl, redisUrl, nodeId: 'startup' }).then(
    async (s) => {
      await s.close();
      return null;
    },
    (err: Error) => err.message,
  );
  expect(started, 'the node started although Redis cannot be used').not.toBeNull();
  return { message: started as string, ms: Date.now() - t0 };
}

describe('start-up against a Redis it cannot use', () => {
  let postgresUrl: string;
  beforeAll(async () => {
    postgresUrl = await freshDatabase(inject('pgUrl'), 'redisstart');
  });

  it('fails within the connect timeout (5 s) when Redis accepts but never answers, naming host:port', async () => {
    const hole = await blackHole();
    try {
      const { message, ms } = await failedStart(postgresUrl, `redis://127.0.0.1:${hole.port}`);
      expect(message).toContain(`127.0.0.1:${hole.port}`);
      expect(message).toMatch(/accepted the connection but did not answer within 5 s/);
      expect(message).toMatch(/check/);
      expect(ms).toBeGreaterThan(4000);
      expect(ms).toBeLessThan(8000);
    } finally {
      await hole.close();
    }
  }, 15_000);

  it('refuses a db number Redis does not have (/99 on 16 databases) instead of using db 0', async () => {
    const { message, ms } = await failedStart(postgresUrl, `${inject('redisUrl')}/99`);
    expect(message).toMatch(/no database 99/);
    expect(message).toMatch(/DB index is out of range/);
    expect(ms).toBeLessThan(3000);
  });

  describe('with a password', () => {
    let redis: { port: number; stop(): Promise<void> };
    beforeAll(async () => {
      redis = await redisWithPassword('right-one');
    });
    afterAll(() => redis.stop());

    it('shows WRONGPASS in the fatal line, never the password itself', async () => {
      const { message, ms } = await failedStart(postgresUrl, `redis://:not-the-secret-x@127.0.0.1:${redis.port}`);
      expect(message).toContain('WRONGPASS');
      expect(message).toMatch(/password in the Redis URL/);
      expect(message).not.toContain('not-the-secret-x');
      expect(ms).toBeLessThan(3000);
    });

    it('shows NOAUTH when the URL has no password', async () => {
      const { message } = await failedStart(postgresUrl, `redis://127.0.0.1:${redis.port}`);
      expect(message).toContain('NOAUTH');
    });

    it('starts with the right password', async () => {
      const s = await startTestServer({ postgresUrl, redisUrl: `redis://:right-one@127.0.0.1:${redis.port}`, nodeId: 'startup-ok' });
      try {
        expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      } finally {
        await s.close();
      }
    });
  });
});

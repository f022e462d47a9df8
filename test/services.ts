import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Real PostgreSQL and Redis servers for tests, each on a free 127.0.0.1 port with its data under
// /tmp. They come from Debian's packages (`bash .ci/run` installs them).

const PG_BIN = '/usr/lib/postgresql/15/bin';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function need(path: string, pkg: string): void {
  try {
    execFileSync(path, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${path} is missing: install Debian's ${pkg} (bash .ci/run does)`);
  }
}

/** Runs a command as the postgres user (PostgreSQL refuses to run as root). */
function asPostgres(cmd: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  execFileSync(asRoot ? 'runuser' : cmd, asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe' });
}

export interface PostgresServer {
  /** URL of the `postgres` database; use `createDatabase` for a fresh one. */
  url: string;
  port: number;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
  /** Stops the server (immediate shutdown) and starts it again on the same port and data. */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  need(`${PG_BIN}/postgres`, 'postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-pg-'));
  chmodSync(dir, 0o700);
  const pwuid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const pwgid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  if (process.getuid?.() === 0) chownSync(dir, pwuid, pwgid);
  const data = join(dir, 'data');
  asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // fsync=off survives a killed server (the OS keeps the writes), not a power cut: fine for tests.
  // synchronous_commit stays on: a crash must not lose a committed (acknowledged) message.
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = async () => asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  const stop = async (mode: 'fast' | 'immediate') => asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', mode, '-w', 'stop']);
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      asPostgres(`${PG_BIN}/psql`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-q', '-c', `CREATE DATABASE "${name}"`]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      try {
        await stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async restart() {
      await stop('immediate');
      await start();
    },
    kill: () => stop('immediate'),
    start,
  };
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops the server and starts a new one on the same port (Redis state is lost, as in a crash). */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  need('/usr/bin/redis-server', 'redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-redis-'));
  const port = await freePort();
  let proc: ReturnType<typeof spawn> | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const p = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc = p;
      let out = '';
      p.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)));
    });
  const kill = () =>
    new Promise<void>((resolve) => {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await start();
    },
    kill,
    start,
  };
}

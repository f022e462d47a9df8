// PostgreSQL and Redis for the cluster scenario (G): each started by the bench on a free
// 127.0.0.1 port with its data in a temporary directory under /tmp, stopped and deleted at the
// end or when the run is interrupted (they sit in LIVE while they run). The same approach as
// test/services.ts: Debian's PostgreSQL 15 binaries, run as the postgres user when we are root.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE } from './servers.mjs';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const REDIS_BIN = '/usr/bin/redis-server';

export const SERVICES_MISSING = 'needs redis-server and PostgreSQL 15 (apt-get install redis-server postgresql)';

/** Whether the binaries are there (and, as root, the postgres user to run PostgreSQL as). */
export function servicesAvailable() {
  if (!existsSync(REDIS_BIN) || !existsSync(`${PG_BIN}/postgres`) || !existsSync(`${PG_BIN}/initdb`) || !existsSync(`${PG_BIN}/pg_ctl`)) return false;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
      execFileSync('runuser', ['--help'], { stdio: 'ignore' });
    } catch {
      return false;
    }
  }
  return true;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** `cmd args`, pinned to `core` when it is not null. */
function pinned(/** @type {string} */ cmd, /** @type {string[]} */ args, /** @type {number | null} */ core) {
  return core === null ? [cmd, args] : ['taskset', ['-c', String(core), cmd, ...args]];
}

/** Runs a command as the postgres user (PostgreSQL refuses to run as root), optionally pinned. */
function asPostgres(/** @type {string} */ cmd, /** @type {string[]} */ args, /** @type {number | null} */ core = null) {
  const asRoot = process.getuid?.() === 0;
  const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const [pc, pa] = pinned(c, /** @type {string[]} */ (a), core);
  return execFileSync(/** @type {string} */ (pc), /** @type {string[]} */ (pa), { stdio: 'pipe' }).toString();
}

/**
 * PostgreSQL 15 with fsync off (the data lives in /tmp and is thrown away) and synchronous
 * commit on, as in the tests. Pinned to `core` (its backends inherit the affinity).
 * @param {{ core: number | null }} o
 */
export async function startPostgres(o) {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-bench-pg-'));
  chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  let running = false;
  const stopSync = () => {
    if (running) {
      running = false;
      try {
        asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const entry = { kill: stopSync };
  LIVE.add(entry);
  try {
    asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const port = /** @type {number} */ (await freePort());
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
    running = true;
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start'], o.core);
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let dbs = 0;
    return {
      port,
      /** The postmaster; its backends are its children. */
      pid,
      /** A fresh database for one run; resolves with its URL. */
      createDatabase(/** @type {string} */ prefix) {
        const name = `${prefix}_${++dbs}`;
        asPostgres(`${PG_BIN}/psql`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-q', '-c', `CREATE DATABASE "${name}"`]);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      stop() {
        stopSync();
        LIVE.delete(entry);
      },
    };
  } catch (err) {
    stopSync();
    LIVE.delete(entry);
    let log = '';
    try {
      log = readFileSync(join(dir, 'log'), 'utf8').slice(-500);
    } catch {}
    throw new Error(`PostgreSQL did not start: ${String(/** @type {any} */ (err)?.stderr ?? /** @type {Error} */ (err).message).slice(0, 400)}${log ? ` (log: ${log})` : ''}`);
  }
}

/**
 * Redis in the foreground as our child, no persistence, pinned to `core`.
 * @param {{ core: number | null }} o
 */
export async function startRedis(o) {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-bench-redis-'));
  const port = /** @type {number} */ (await freePort());
  const [cmd, args] = pinned(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], o.core);
  const proc = spawn(/** @type {string} */ (cmd), /** @type {string[]} */ (args), { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.once('error', () => {});
  const kill = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const entry = { kill };
  LIVE.add(entry);
  try {
    await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${out.slice(-300)}`)), 10000);
      proc.stdout?.on('data', (d) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(undefined);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out.slice(-300)}`));
      });
    });
  } catch (err) {
    kill();
    LIVE.delete(entry);
    throw err;
  }
  proc.stdout?.resume();
  proc.stderr?.resume();
  return {
    port,
    pid: /** @type {number} */ (proc.pid),
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      LIVE.delete(entry);
    },
  };
}

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

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

export interface RedisClusterNode {
  url: string;
  port: number;
  /** SIGKILLs this master (its slots stay assigned to it: the cluster fails until it is back). */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port with the same node id and slots (its data is gone), and
   * waits until every node says cluster_state:ok again.
   */
  start(): Promise<void>;
}

export interface RedisCluster {
  /** Seed URLs, one per master (what `--redis` takes, joined by ','). */
  urls: string[];
  masters: RedisClusterNode[];
  stop(): Promise<void>;
}

function spawnRedis(args: string[]): Promise<ReturnType<typeof spawn>> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`));
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        p.off('exit', onExit);
        resolve(p);
      }
    });
    p.once('exit', onExit);
  });
}

/** One command on one server over a short-lived connection (no redis-cli needed). */
async function call(port: number, ...args: string[]): Promise<unknown> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await r.connect();
    return await r.call(args[0] as string, ...args.slice(1));
  } finally {
    r.disconnect();
  }
}

async function clusterOk(ports: number[]): Promise<void> {
  const ok = async () => (await Promise.all(ports.map((p) => call(p, 'CLUSTER', 'INFO')))).every((info) => String(info).includes('cluster_state:ok'));
  const deadline = Date.now() + 20_000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`the Redis Cluster on ports ${ports.join(', ')} did not reach cluster_state:ok within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A real Redis Cluster of `masters` masters (no replicas) on free 127.0.0.1 ports, data under
 * /tmp, every slot assigned and cluster_state:ok everywhere before it returns.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  need('/usr/bin/redis-server', 'redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-redis-cluster-'));
  const nodes: RedisClusterNode[] = [];
  const procs: (ReturnType<typeof spawn> | null)[] = [];
  for (let i = 0; i < masters; i++) {
    // The bus port is explicit: port+10000 (the default) may be taken or above 65535.
    const [port, bus] = [await freePort(), await freePort()];
    const args = [
      '--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${i}.conf`),
      '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir,
    ];
    const start = async () => {
      procs[i] = await spawnRedis(args);
      if (nodes.length === masters) await clusterOk(nodes.map((n) => n.port));
    };
    const kill = () =>
      new Promise<void>((resolve) => {
        const p = procs[i];
        procs[i] = null;
        if (!p || p.exitCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      });
    await start();
    nodes.push({ url: `redis://127.0.0.1:${port}`, port, kill, start });
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = nodes.map((n) => n.port);
    if (existsSync('/usr/bin/redis-cli')) {
      execFileSync('/usr/bin/redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
    } else {
      // Split the slots evenly and introduce the nodes by hand.
      for (const [i, p] of ports.entries()) await call(p, 'CLUSTER', 'ADDSLOTSRANGE', String(Math.floor((16384 * i) / masters)), String(Math.floor((16384 * (i + 1)) / masters) - 1));
      for (const p of ports.slice(1)) await call(p, 'CLUSTER', 'MEET', '127.0.0.1', String(ports[0]));
    }
    await clusterOk(ports);
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls: nodes.map((n) => n.url), masters: nodes, stop };
}

/** `count` independent Redis servers (shards for a hash ring of URLs). */
export async function startRedisShards(count = 2): Promise<RedisServer[]> {
  return Promise.all(Array.from({ length: count }, () => startRedis()));
}

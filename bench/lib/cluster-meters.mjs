// What bench/cluster-costs.mjs reads at the start and end of each window: CPU of the nodes and
// of PostgreSQL (postmaster + backends) from /proc, Redis INFO (cpu, stats, memory,
// commandstats), the PostgreSQL WAL position, and the nodes' RSS. `diff(a, b)` turns two
// snapshots into the window's costs.
import { Redis } from 'ioredis';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { cpuSeconds, rssBytes, treeCpuSeconds } from './proc.mjs';

/**
 * PostgreSQL's CPU: the postmaster and its live backends, plus the CPU of the backends that
 * already exited (the postmaster reaps them: its cutime + cstime). A node's pool closes idle
 * connections after a while, so a window without the reaped part loses whole backends.
 */
function postgresCpuSeconds(/** @type {number} */ pid) {
  const live = treeCpuSeconds(pid);
  if (live === null) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3; cutime is field 16, cstime field 17; 100 ticks a second.
  return live + (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Parses `INFO` text into { key: value } plus commandstats as { cmd: { calls, usec } }. */
export function parseInfo(/** @type {string} */ text) {
  /** @type {Record<string, string>} */
  const fields = {};
  /** @type {Record<string, { calls: number, usec: number }>} */
  const commands = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0 || line.startsWith('#')) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    if (key.startsWith('cmdstat_')) {
      const calls = /calls=(\d+)/.exec(value);
      const usec = /usec=(\d+)/.exec(value);
      commands[key.slice(8)] = { calls: Number(calls?.[1] ?? 0), usec: Number(usec?.[1] ?? 0) };
    } else fields[key] = value;
  }
  return { fields, commands };
}

/** "16/B374D848" → bytes as a Number (exact below 2^53). */
export const lsnBytes = (/** @type {string} */ lsn) => {
  const [hi, lo] = lsn.split('/');
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16);
};

/**
 * @param {{ redisUrl: string, pgUrl: string, pgPid: number, nodes: { name: string, pid: number }[] }} o
 */
export async function openMeters(o) {
  const redis = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const db = new pg.Client({ connectionString: o.pgUrl });
  await db.connect();
  return {
    async snapshot() {
      const t = performance.now();
      const nodes = o.nodes.map((n) => ({ name: n.name, cpu: cpuSeconds(n.pid) ?? NaN, rss: rssBytes(n.pid) ?? NaN }));
      const pgCpu = postgresCpuSeconds(o.pgPid);
      const row = (await db.query('SELECT pg_current_wal_lsn()::text AS l, pg_database_size(current_database())::text AS d')).rows[0];
      const info = parseInfo(/** @type {string} */ (await redis.call('INFO', 'cpu', 'stats', 'memory', 'commandstats')));
      return {
        t,
        nodes,
        pgCpu,
        wal: lsnBytes(row.l),
        dbBytes: Number(row.d),
        redisCpu: Number(info.fields.used_cpu_sys) + Number(info.fields.used_cpu_user),
        redisCommands: Number(info.fields.total_commands_processed),
        redisMemory: Number(info.fields.used_memory),
        redisCmd: info.commands,
      };
    },
    /** Rows and on-disk bytes (heap, indexes, TOAST) of the messages table. */
    async messagesTable() {
      const r = (await db.query("SELECT count(*)::text AS n, pg_total_relation_size('messages')::text AS b FROM messages")).rows[0];
      return { rows: Number(r.n), bytes: Number(r.b) };
    },
    async close() {
      redis.disconnect();
      await db.end();
    },
  };
}

/** @typedef {Awaited<ReturnType<Awaited<ReturnType<typeof openMeters>>['snapshot']>>} Snapshot */

/**
 * The window between two snapshots. Our own INFO (one per snapshot, counted at the next one)
 * is taken out of the Redis command counts; its CPU is too small to matter.
 */
export function diff(/** @type {Snapshot} */ a, /** @type {Snapshot} */ b) {
  /** @type {Record<string, { calls: number, usec: number }>} */
  const commands = {};
  for (const [cmd, s] of Object.entries(b.redisCmd)) {
    const calls = s.calls - (a.redisCmd[cmd]?.calls ?? 0) - (cmd === 'info' ? 1 : 0);
    const usec = s.usec - (a.redisCmd[cmd]?.usec ?? 0);
    if (calls > 0) commands[cmd] = { calls, usec };
  }
  return {
    seconds: (b.t - a.t) / 1000,
    nodeCpu: b.nodes.map((n, i) => n.cpu - a.nodes[i].cpu),
    nodeRss: b.nodes.map((n, i) => n.rss - a.nodes[i].rss),
    pgCpu: b.pgCpu - a.pgCpu,
    walBytes: b.wal - a.wal,
    dbBytes: b.dbBytes - a.dbBytes,
    redisCpu: b.redisCpu - a.redisCpu,
    redisCommands: b.redisCommands - a.redisCommands - 1,
    redisMemory: b.redisMemory - a.redisMemory,
    redisUsec: Object.values(commands).reduce((s, c) => s + c.usec, 0),
    commands,
  };
}

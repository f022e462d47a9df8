#!/usr/bin/env node
// The scale model's measurements (issue 17, docs/cluster.md): a real two-node roomcast cluster
// on this machine (PostgreSQL 15 and Redis started here on free 127.0.0.1 ports, data under
// /tmp), load from separate child processes, and per window the CPU of each node, of Redis and
// of PostgreSQL, Redis commands, Redis memory and PostgreSQL WAL bytes. It prints:
//   - per message at a given rate over 100 rooms with members on both nodes;
//   - per connection: node RSS, Redis memory, Redis commands/s at idle per 1,000 connections,
//     the cost of opening one connection with one join;
//   - per join: into a fresh room and into one big room.
//
//   node bench/cluster-costs.mjs [--quick] [--json] [--repo DIR] [--lease MS] [--rates 500,2000]
//   node bench/cluster-costs.mjs --from run.json     # the tables of a saved --json run
//
// --repo DIR runs another checkout's build (e.g. a worktree of an older commit) for before/after.
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { diff, openMeters } from './lib/cluster-meters.mjs';
import { SERVICES_MISSING, servicesAvailable, startPostgres, startRedis } from './lib/services.mjs';
import { BENCH_DIR, LIVE, REPO_DIR, addBaseBuild, startServer } from './lib/servers.mjs';
import { printTables } from './lib/cluster-report.mjs';

const argv = process.argv.slice(2);
const flag = (/** @type {string} */ name) => argv.includes(name);
const value = (/** @type {string} */ name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const repo = value('--repo');
const lease = value('--lease');

/** Sizes; quick stays under a minute in all. */
const S = quick
  ? { rooms: 100, perRoomPerNode: 5, idleS: 3, rates: [500], warmS: 1, windowS: 4, joins: 60, bigRoom: 600, bigJoins: 40, smallRates: [] }
  : { rooms: 100, perRoomPerNode: 10, idleS: 16, rates: [500, 2000], warmS: 4, windowS: 20, joins: 300, bigRoom: 2_000, bigJoins: 100, smallRates: [2000] };
if (value('--rates')) S.rates = String(value('--rates')).split(',').map(Number);

const T0 = performance.now();
const log = (/** @type {string} */ s) => process.stderr.write(`cluster-costs [${((performance.now() - T0) / 1000).toFixed(0)} s]: ${s}\n`);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.once(sig, () => {
    for (const child of LIVE) child.kill();
    process.stderr.write(`\ncluster-costs: interrupted (${sig})\n`);
    process.exit(130);
  });
}

/** A load child process (bench/lib/cluster-load.mjs) with request/answer over IPC. */
function startLoad(/** @type {string} */ name) {
  const proc = fork(join(BENCH_DIR, 'lib/cluster-load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const entry = { kill: () => proc.exitCode === null && proc.kill('SIGKILL') };
  LIVE.add(entry);
  proc.once('exit', () => LIVE.delete(entry));
  let ids = 0;
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const waiting = new Map();
  proc.on('message', (/** @type {any} */ m) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new Error(`${name}: ${m.error}`));
  });
  proc.once('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited with ${code}`));
  });
  return {
    pid: /** @type {number} */ (proc.pid),
    /** @returns {Promise<any>} */
    call(/** @type {string} */ cmd, /** @type {object} */ args = {}) {
      const id = ++ids;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        proc.send({ id, cmd, ...args });
      });
    },
  };
}

/** Which of the #17 options this build's CLI accepts (the bench passes none it does not). */
function cliOptions(/** @type {string} */ bin) {
  const help = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  return ['redis-prefix', 'redis-cluster', 'redis-timeout', 'pg-timeout', 'presence-lease'].filter((o) => help.includes(`--${o} `));
}

function commit(/** @type {string} */ dir) {
  try {
    const sha = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return 'unknown';
  }
}

/** Per-unit costs of a window: divide every total by `n`. */
function perUnit(/** @type {ReturnType<typeof diff>} */ d, /** @type {number} */ n) {
  const nodeCpu = d.nodeCpu.reduce((a, b) => a + b, 0);
  const top = Object.entries(d.commands)
    .sort((a, b) => b[1].calls - a[1].calls)
    .slice(0, 6)
    .map(([cmd, s]) => ({ cmd, calls: s.calls / n, usec: s.usec / n }));
  return {
    n,
    seconds: d.seconds,
    nodeCpuUs: (1e6 * nodeCpu) / n,
    nodeCpuUsEach: d.nodeCpu.map((c) => (1e6 * c) / n),
    redisCpuUs: (1e6 * d.redisCpu) / n,
    redisCommands: d.redisCommands / n,
    redisCommandUs: d.redisUsec / n,
    pgCpuUs: (1e6 * d.pgCpu) / n,
    walBytes: d.walBytes / n,
    dbBytes: d.dbBytes / n,
    top,
  };
}

async function main() {
  if (!servicesAvailable()) throw new Error(`cluster-costs ${SERVICES_MISSING}`);
  const server = repo ? addBaseBuild(repo) : 'roomcast';
  const dir = repo ?? REPO_DIR;
  const bin = join(dir, 'packages/server/bin/roomcast.js');
  const options = cliOptions(bin);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    redis: execFileSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ')[2],
    postgres: '15',
  };
  const build = { dir, commit: commit(dir), options };
  log(`build ${build.commit} at ${dir}; #17 options accepted: ${options.join(', ') || 'none'}`);

  const pgServer = await startPostgres({ core: null });
  const redis = await startRedis({ core: null });
  const pgUrl = pgServer.createDatabase('costs');
  const nodeArgs = (/** @type {string} */ id) => [
    '--postgres', pgUrl, '--redis', redis.url, '--node-id', id,
    '--max-rooms-per-user', '0', '--log-level', 'warn',
    ...(lease && options.includes('presence-lease') ? ['--presence-lease', lease] : []),
  ];
  // One after the other: the first runs the migrations.
  const n1 = await startServer(server, { core: null, extraArgs: nodeArgs('n1') });
  const n2 = await startServer(server, { core: null, extraArgs: nodeArgs('n2') });
  const meters = await openMeters({ redisUrl: redis.url, pgUrl, pgPid: pgServer.pid, nodes: [{ name: 'n1', pid: n1.pid }, { name: 'n2', pid: n2.pid }] });
  const loads = [startLoad('load-n1'), startLoad('load-n2')];
  const ports = [n1.port, n2.port];
  const both = (/** @type {(l: ReturnType<typeof startLoad>, i: number) => Promise<any>} */ fn) => Promise.all(loads.map(fn));
  /** @type {any} */
  const out = { machine, build, sizes: S, lease: lease ?? 'default (15000)' };
  try {
    log('idle, no connections');
    let a = await meters.snapshot();
    out.start = { nodeRss: a.nodes.map((n) => n.rss), redisMemory: a.redisMemory };
    await sleep(S.idleS * 1000);
    const baseline = diff(a, await meters.snapshot());
    out.idleBaseline = { seconds: baseline.seconds, redisCommandsPerS: baseline.redisCommands / baseline.seconds, nodeCpuPct: baseline.nodeCpu.map((c) => (100 * c) / baseline.seconds), commands: baseline.commands };

    // Per connection: each node gets perRoomPerNode members in each of the rooms.
    const rooms = Array.from({ length: S.rooms }, (_, i) => `cc${i}`);
    await loads[0].call('create', { port: ports[0], prefix: 'c', rooms });
    const perNode = S.rooms * S.perRoomPerNode;
    log(`${2 * perNode} connections, each joined to one of ${S.rooms} rooms`);
    await sleep(1000);
    a = await meters.snapshot();
    await both((l, i) => l.call('open', { port: ports[i], prefix: `m${i}-`, count: perNode, rooms, publish: { parity: i } }));
    await sleep(2000);
    let b = await meters.snapshot();
    const conn = diff(a, b);
    out.connections = {
      count: 2 * perNode,
      rssBytesPerConnection: conn.nodeRss.map((r) => r / perNode),
      redisMemoryBytesPerConnection: conn.redisMemory / (2 * perNode),
      openAndJoin: perUnit(conn, 2 * perNode),
    };
    log('idle with connections');
    a = await meters.snapshot();
    await sleep(S.idleS * 1000);
    b = await meters.snapshot();
    const idle = diff(a, b);
    out.idle = {
      connections: 2 * perNode,
      seconds: idle.seconds,
      redisCommandsPerS: idle.redisCommands / idle.seconds,
      redisCommandsPerSPer1000: ((idle.redisCommands / idle.seconds - out.idleBaseline.redisCommandsPerS) * 1000) / (2 * perNode),
      redisCpuPct: (100 * idle.redisCpu) / idle.seconds,
      nodeCpuPct: idle.nodeCpu.map((c) => (100 * c) / idle.seconds),
      commands: idle.commands,
    };

    // Per message, at two fan-outs: the rooms above, and rooms with one member on each node
    // (and the creator), so node CPU splits into a part per message and a part per delivery.
    const smallRooms = Array.from({ length: S.rooms }, (_, i) => `cs${i}`);
    await loads[0].call('create', { port: ports[0], prefix: 'sc', rooms: smallRooms });
    await both((l, i) => l.call('open', { port: ports[i], prefix: `s${i}-`, count: S.rooms, rooms: smallRooms, publish: { parity: i, group: 'small' } }));
    out.messages = [];
    const runs = [...S.rates.map((rate) => ({ rate, group: '' })), ...S.smallRates.map((rate) => ({ rate, group: 'small' }))];
    for (const { rate, group } of runs) {
      log(`publishing ${rate} msg/s over ${S.rooms} rooms (${group ? 'one member on each node + the creator' : `${2 * S.perRoomPerNode} members each, half on each node`})`);
      await both((l) => l.call('publishStart', { rate: rate / 2, group }));
      await sleep(S.warmS * 1000);
      const c0 = await both((l) => l.call('counters'));
      a = await meters.snapshot();
      await sleep(S.windowS * 1000);
      b = await meters.snapshot();
      const c1 = await both((l) => l.call('counters'));
      await both((l) => l.call('publishStop'));
      const sum = (/** @type {string} */ k) => c1.reduce((s, c, i) => s + c[k] - c0[i][k], 0);
      const d = diff(a, b);
      const acked = sum('acked');
      out.messages.push({
        targetRate: rate,
        rooms: group || 'main',
        fanOut: sum('delivered') / acked,
        ackedPerS: acked / d.seconds,
        deliveriesPerS: sum('delivered') / d.seconds,
        refused: sum('refused'),
        skippedInflight: sum('skipped'),
        errors: c1.reduce((s, c) => s + c.errors, 0),
        errorSamples: c1.flatMap((c) => c.errorSamples).slice(0, 3),
        cpuPct: { nodes: d.nodeCpu.map((c) => (100 * c) / d.seconds), redis: (100 * d.redisCpu) / d.seconds, postgres: (100 * d.pgCpu) / d.seconds },
        per: perUnit(d, acked),
      });
      await sleep(1500);
    }

    const at = (/** @type {string} */ rooms) => out.messages.filter((/** @type {any} */ m) => m.rooms === rooms).at(-1);
    const [m1, m2] = [at('main'), at('small')];
    if (m1 && m2 && m1.targetRate === m2.targetRate) {
      const perDelivery = (m1.per.nodeCpuUs - m2.per.nodeCpuUs) / (m1.fanOut - m2.fanOut);
      out.nodeCpuSplit = { rate: m1.targetRate, perDeliveryUs: perDelivery, perMessageUs: m2.per.nodeCpuUs - perDelivery * m2.fanOut };
    }

    // Per join: fresh connections (not yet in any room) each join a room of their own.
    const joinRooms = Array.from({ length: S.joins }, (_, i) => `cj${i}`);
    await loads[0].call('create', { port: ports[0], prefix: 'jc', rooms: joinRooms });
    await both((l, i) => l.call('open', { port: ports[i], prefix: `j${i}-`, count: S.joins / 2, rooms: joinRooms, join: false }));
    await sleep(1000);
    log(`${S.joins} joins into rooms of one member`);
    a = await meters.snapshot();
    await both((l, i) => l.call('join', { prefix: `j${i}-`, count: S.joins / 2, rooms: i === 0 ? joinRooms.slice(0, S.joins / 2) : joinRooms.slice(S.joins / 2), port: ports[i] }));
    out.joinSmall = perUnit(diff(a, await meters.snapshot()), S.joins);

    // A big room: members on both nodes, then more connections join it one at a time.
    log(`a room of ${S.bigRoom} members, half on each node`);
    await loads[0].call('create', { port: ports[0], prefix: 'bc', rooms: ['big'] });
    a = await meters.snapshot();
    await both((l, i) => l.call('open', { port: ports[i], prefix: `b${i}-`, count: S.bigRoom / 2, rooms: ['big'], concurrency: 20 }));
    await sleep(2000);
    b = await meters.snapshot();
    const big = diff(a, b);
    out.bigRoom = { members: S.bigRoom + 1, joinRetries: (await both((l) => l.call('counters'))).reduce((s, c) => s + c.joinRetries, 0), rssBytesPerConnection: big.nodeRss.map((r) => r / (S.bigRoom / 2)), redisMemoryBytesPerMember: big.redisMemory / S.bigRoom, openAndJoin: perUnit(big, S.bigRoom) };
    await both((l, i) => l.call('open', { port: ports[i], prefix: `k${i}-`, count: S.bigJoins / 2, rooms: ['big'], join: false }));
    await sleep(1000);
    log(`${S.bigJoins} joins into the room of ${S.bigRoom}`);
    a = await meters.snapshot();
    await both((l, i) => l.call('join', { prefix: `k${i}-`, count: S.bigJoins / 2, rooms: ['big'], port: ports[i], concurrency: 1 }));
    out.joinBig = { roomSize: S.bigRoom + 1, ...perUnit(diff(a, await meters.snapshot()), S.bigJoins) };

    log('idle with every connection');
    const total = 2 * perNode + 2 * S.rooms + S.bigRoom + S.bigJoins + S.joins + 4;
    a = await meters.snapshot();
    await sleep(S.idleS * 1000);
    const idle2 = diff(a, await meters.snapshot());
    out.idleAll = {
      connections: total,
      redisCommandsPerS: idle2.redisCommands / idle2.seconds,
      redisCommandsPerSPer1000: ((idle2.redisCommands / idle2.seconds - out.idleBaseline.redisCommandsPerS) * 1000) / total,
      redisCpuPct: (100 * idle2.redisCpu) / idle2.seconds,
      nodeCpuPct: idle2.nodeCpu.map((c) => (100 * c) / idle2.seconds),
      commands: idle2.commands,
    };
    const final = await meters.snapshot();
    const table = await meters.messagesTable();
    // Over every connection a node ended with (the per-phase RSS deltas follow V8's heap steps).
    const perNodeConns = total / 2;
    out.final = { rssBytesPerConnectionOverall: final.nodes.map((n, i) => (n.rss - out.start.nodeRss[i]) / perNodeConns), nodeRss: final.nodes.map((n) => n.rss), redisMemory: final.redisMemory, messagesRows: table.rows, messagesTableBytes: table.bytes, bytesPerMessageRow: table.bytes / table.rows };
  } catch (err) {
    // What was measured before the failure is still worth having.
    out.failed = String(/** @type {Error} */ (err)?.message ?? err);
    log(`failed: ${out.failed}`);
  } finally {
    await Promise.allSettled(loads.map((l) => l.call('close')));
    await meters.close();
    await Promise.allSettled([n1.stop(), n2.stop()]);
    await redis.stop();
    pgServer.stop();
  }
  if (flag('--json')) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else printTables(out);
  if (out.failed) process.exitCode = 1;
}

if (value('--from')) printTables(JSON.parse(readFileSync(String(value('--from')), 'utf8')));
else main().catch((err) => {
  for (const child of LIVE) child.kill();
  process.stderr.write(`cluster-costs: ${err?.stack ?? err}\n`);
  process.exit(1);
});

#!/usr/bin/env node
// `npm run bench`: roomcast side by side with what users would otherwise run (Socket.IO, the
// tutorial `ws` chat, a minimal pre-framed `ws` server), scenario by scenario, with ratios.
// Each server runs alone, pinned to core 0 and started fresh per scenario; the load generators
// run pinned to core 1. See bench/README.md and docs/benchmarks.md.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, availableParallelism, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, rssBytes } from './lib/proc.mjs';
import { formatProfile, summarizeProfileFile } from './lib/profile.mjs';
import { chartSvg, formatReport, ratios, targets } from './lib/report.mjs';
import { DEFAULT_SCENARIOS, MAX_CONNS_PER_GENERATOR, MODES, SCENARIO_INFO } from './lib/scenarios.mjs';
import { LIVE, REPO_DIR, SERVERS, addBaseBuild, canPin, startGenerator, startServer } from './lib/servers.mjs';
import { SERVICES_MISSING, servicesAvailable, startPostgres, startRedis } from './lib/services.mjs';
import { soakJob } from './lib/soak.mjs';

const HELP = `npm run bench [-- options]

Runs the scenarios against roomcast (SQLite persistence on, and persist:false rooms) and the
baselines (Socket.IO 4, the tutorial ws chat, a minimal pre-framed ws server), then prints a
table per scenario, the ratios roomcast/Socket.IO and roomcast/minimal, and the issue's targets.

  --full               the full sizes and durations (about 25 min, of which H 12); default: quick (< 2 min)
  --smoke              tiny counts, seconds: only proves every scenario runs (used by the tests)
  --only A,C           scenarios to run (A B C D E F; D19 = 19,000 connections, full mode;
                       G = cluster of roomcast nodes on Redis + PostgreSQL, full mode or --only G;
                       H = hostile soak, roomcast with and without 200 hostile clients, full
                       mode (2 × 5 min) or --only H (quick: 2 × 30 s))
  --servers a,b        servers: roomcast,roomcast-eph,socketio,tutorial,minimal (default: all)
  --base DIR[,DIR]     also measure the roomcast of another checkout (built), as roomcast@SHA:
                       before/after comparisons in one run
  --json               print the results as JSON on stdout instead of tables
  --out FILE           also write the JSON results to FILE
  --chart FILE         write an SVG chart of the results to FILE
  --from FILE          no run: render tables (and --chart) from a JSON file written by --out
  --profile DIR        run roomcast under node --cpu-prof, write profiles to DIR, print a summary
                       of each measurement window (profiling slows roomcast: do not compare)
  --no-pin             do not pin server and generator to cores with taskset
  --help               this text

Progress goes to stderr. The roomcast server measured is packages/server/dist: run
\`npm run build\` first after changing the source.`;

const { values: opt } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    servers: { type: 'string' },
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    chart: { type: 'string' },
    from: { type: 'string' },
    profile: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(HELP + '\n');
  process.exit(0);
}

const mode = opt.smoke ? 'smoke' : opt.full ? 'full' : 'quick';
const params = MODES[mode];
const scenarios = opt.only ? opt.only.split(',').map((s) => s.trim().toUpperCase()) : DEFAULT_SCENARIOS[mode];
const bases = opt.base ? opt.base.split(',').map((d) => addBaseBuild(d.trim())) : [];
const servers = opt.servers ? [...opt.servers.split(',').map((s) => s.trim()), ...bases] : Object.keys(SERVERS);
for (const sc of scenarios) if (!(sc in SCENARIO_INFO)) fail(`unknown scenario ${sc} (A B C D D19 E F G H)`);
for (const s of servers) if (!(s in SERVERS)) fail(`unknown server ${s} (${Object.keys(SERVERS).join(', ')})`);

function fail(/** @type {string} */ msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

// ---- progress -----------------------------------------------------------------------------------

const tty = process.stderr.isTTY;
const t0 = performance.now();
let lastLine = '';
let stepNo = 0;
let stepCount = 0;
function status(/** @type {string} */ text, final = false) {
  const line = `[${String(stepNo).padStart(2)}/${stepCount}] ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s ${text}`;
  if (tty) {
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}${final ? '\n' : ''}`);
  } else if (final || line.replace(/\d+/g, '') !== lastLine.replace(/\d+/g, '')) {
    // Without a terminal, print each phase once instead of every counter update.
    process.stderr.write(line + '\n');
  }
  lastLine = line;
}

// Interrupted: take the servers and generators down too (and their temporary data).
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.once(sig, () => {
    for (const child of LIVE) child.kill();
    process.stderr.write(`\nbench: interrupted (${sig})\n`);
    process.exit(130);
  });
}

// ---- machine --------------------------------------------------------------------------------

/** CPU pressure (PSI): share of time some runnable task waited for a CPU, last 60 s. */
function cpuPressure() {
  try {
    const m = /some avg10=([\d.]+) avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? { avg10: Number(m[1]), avg60: Number(m[2]) } : null;
  } catch {
    return null;
  }
}

function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {}
  const git = (/** @type {string[]} */ args) => spawnSync('git', args, { cwd: REPO_DIR, encoding: 'utf8' }).stdout?.trim() ?? '';
  let distBuilt = null;
  try {
    distBuilt = statSync(join(REPO_DIR, 'packages/server/dist/server.js')).mtime.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  } catch {}
  return {
    cpuModel,
    nproc: availableParallelism(),
    roomcast: {
      commit: git(['rev-parse', '--short', 'HEAD']),
      uncommittedServerChanges: git(['status', '--porcelain', 'packages/server/src', 'packages/protocol/src']).length > 0,
      distBuilt,
    },
    cpuPressureStart: cpuPressure(),
    node: process.version,
    kernel: release(),
    loadavgStart: loadavg().map((v) => Math.round(v * 100) / 100),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  };
}

// ---- running ------------------------------------------------------------------------------------

const pin = !opt['no-pin'] && canPin();
/** Windows disturbed by other processes are measured again (needs pinning to tell). */
const RETRIES = mode === 'full' ? 3 : mode === 'quick' ? 1 : 0;
const SERVER_CORE = pin ? 0 : null;
const GEN_CORE = pin ? 1 : null;

/** Smoke mode keeps one server per kind for all its jobs (it only checks that things run). */
const REUSE = mode === 'smoke';
/** @type {Map<string, any>} */
const kept = new Map();

/** One server process for one job: start, run `body`, stop. */
async function withServer(/** @type {string} */ name, /** @type {string} */ tag, /** @type {{ recovery?: boolean }} */ o, body) {
  const isRoomcast = SERVERS[name].proto === 'roomcast';
  const nodeFlags = opt.profile && isRoomcast ? ['--cpu-prof', '--cpu-prof-dir', resolve(opt.profile), '--cpu-prof-name', `${name}-${tag}.cpuprofile`] : [];
  let srv = REUSE ? kept.get(name) : undefined;
  if (!srv) {
    srv = await startServer(name, { core: SERVER_CORE, recovery: o.recovery || (REUSE && SERVERS[name].proto === 'socketio'), nodeFlags });
    if (REUSE) kept.set(name, srv);
    await sleep(REUSE ? 50 : 300); // let start-up work settle before measuring
  }
  try {
    return await body(srv);
  } finally {
    if (!REUSE) await srv.stop();
  }
}

async function stopKept() {
  for (const srv of kept.values()) await srv.stop();
  kept.clear();
}

/** Runs one generator job; resolves with its result. */
function generate(srv, /** @type {string} */ scenario, /** @type {object} */ p, onEvent = (/** @type {any} */ _m) => {}) {
  const g = startGenerator(
    { scenario, proto: srv.def.proto, persist: srv.def.persist, port: srv.port, pid: srv.pid, pinned: pin, retries: RETRIES, params: p },
    {
      core: GEN_CORE,
      onEvent: (m) => {
        if (m.ev === 'progress') status(`${currentLabel} · ${m.text}`);
        onEvent(m);
      },
    },
  );
  return g;
}

let currentLabel = '';

/** (D, D19) idle connections: RSS before and after, over as many generators as needed. */
async function memoryJob(srv, /** @type {Record<string, number>} */ p) {
  const rss0 = rssBytes(srv.pid) ?? NaN;
  const cpu0 = cpuSeconds(srv.pid) ?? NaN;
  const gens = Math.ceil(p.conns / MAX_CONNS_PER_GENERATOR);
  const perGen = Math.ceil(p.conns / gens / p.roomSize) * p.roomSize;
  const started = performance.now();
  /** @type {any[]} */
  const ready = [];
  const all = [];
  let resolveReady = () => {};
  const allReady = new Promise((r) => (resolveReady = () => r(undefined)));
  for (let k = 0; k < gens; k++) {
    const from = k * perGen;
    const to = Math.min(p.conns, from + perGen);
    const g = generate(srv, 'rooms', { from, to, roomSize: p.roomSize, memory: true, prefix: 'd' }, (m) => {
      if (m.ev === 'ready') {
        ready.push(m);
        if (ready.length === gens) resolveReady();
      }
    });
    all.push(g);
    g.result.then(() => {
      if (ready.length < gens) resolveReady(); // a generator died: do not wait forever
    });
  }
  await allReady;
  const setupS = (performance.now() - started) / 1000;
  const setupCpu = (cpuSeconds(srv.pid) ?? NaN) - cpu0;
  status(`${currentLabel} · settling ${p.settleS} s`);
  await sleep(p.settleS * 1000);
  const rss1 = rssBytes(srv.pid) ?? NaN;
  for (const g of all) g.send({ cmd: 'finish' });
  const results = await Promise.all(all.map((g) => g.result));
  const failedGen = results.find((r) => r.failed);
  if (failedGen) return { failed: failedGen.failed };
  const connected = results.reduce((n, r) => n + (r.setup?.connected ?? 0), 0);
  const failedConns = results.reduce((n, r) => n + (r.setup?.failedConns ?? 0), 0);
  return {
    requested: p.conns,
    connected,
    failedConns,
    stillOpen: results.reduce((n, r) => n + (r.setup?.stillOpen ?? 0), 0),
    generators: gens,
    rssBeforeMB: round(rss0 / 2 ** 20, 1),
    rssAfterMB: round(rss1 / 2 ** 20, 1),
    bytesPerConn: connected > 0 ? Math.round((rss1 - rss0) / connected) : null,
    setupS: round(setupS, 2),
    connectPerS: Math.round(connected / setupS),
    setupCpuMsPerConn: connected > 0 ? round((setupCpu * 1000) / connected, 2) : null,
    setupMonoWindowUs: results.length === 1 ? results[0].setup?.monoWindowUs : undefined,
    errors: results.reduce((n, r) => n + (r.errors ?? 0), 0),
    errorSamples: results.flatMap((r) => r.errorSamples ?? []).slice(0, 5),
  };
}

const round = (/** @type {number} */ v, /** @type {number} */ d) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * (G) The cluster: PostgreSQL and Redis started for this scenario (pinned to the generator's
 * core), then two runs, each on a fresh database: one roomcast node in cluster mode, and two
 * nodes (both pinned to core 0) with the subscribers split between them; the second run also
 * measures the Redis hop at a low rate.
 */
async function clusterJob(/** @type {Record<string, number>} */ p) {
  if (!servicesAvailable()) return { na: SERVICES_MISSING };
  status(`${currentLabel} · starting PostgreSQL and Redis`);
  const svcCore = pin ? 1 : null;
  const started = await Promise.allSettled([startPostgres({ core: svcCore }), startRedis({ core: svcCore })]);
  const [pgR, redisR] = started;
  if (pgR.status === 'rejected' || redisR.status === 'rejected') {
    if (pgR.status === 'fulfilled') pgR.value.stop();
    if (redisR.status === 'fulfilled') await redisR.value.stop();
    const why = started.flatMap((r) => (r.status === 'rejected' ? [String(r.reason?.message ?? r.reason)] : []));
    return { failed: why.join('; ') };
  }
  const pg = pgR.value;
  const redis = redisR.value;
  const runNodes = async (/** @type {number} */ count) => {
    const db = pg.createDatabase(`bench_g${count}`);
    /** @type {any[]} */
    const nodes = [];
    try {
      for (let i = 0; i < count; i++) {
        status(`${currentLabel} · ${count} node${count > 1 ? 's' : ''}: starting node ${i + 1}`);
        const nodeFlags = opt.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(opt.profile), '--cpu-prof-name', `roomcast-G${count}N${i + 1}.cpuprofile`] : [];
        // One after the other: the first one creates the schema in the fresh database.
        nodes.push(await startServer('roomcast', { core: SERVER_CORE, nodeFlags, extraArgs: ['--postgres', db, '--redis', redis.url, '--node-id', `bench-${i + 1}`] }));
      }
      await sleep(300);
      const g = startGenerator(
        {
          scenario: 'cluster',
          proto: 'roomcast',
          persist: true,
          port: nodes[0].port,
          pid: nodes[0].pid,
          ports: nodes.map((n) => n.port),
          pids: nodes.map((n) => n.pid),
          services: { redis: redis.pid, postgres: pg.pid },
          servicesCore: svcCore,
          pinned: pin,
          retries: RETRIES,
          params: p,
        },
        { core: GEN_CORE, onEvent: (m) => m.ev === 'progress' && status(`${currentLabel} · ${count} node${count > 1 ? 's' : ''} · ${m.text}`) },
      );
      return await g.result;
    } finally {
      for (const n of nodes) await n.stop();
    }
  };
  try {
    const one = await runNodes(1);
    if (one.failed) return { failed: `1 node: ${one.failed}` };
    const two = await runNodes(2);
    if (two.failed) return { failed: `2 nodes: ${two.failed}`, oneNode: one.fanout };
    const ratio = (/** @type {any} */ a, /** @type {any} */ b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b, 3) : null);
    return {
      oneNode: one.fanout,
      twoNodes: two.fanout,
      hop: two.hop,
      ratios: {
        deliveriesPerS: ratio(two.fanout.deliveriesPerS, one.fanout.deliveriesPerS),
        usPerDelivery: ratio(two.fanout.usPerDelivery, one.fanout.usPerDelivery),
      },
      pinning: { nodes: pin ? 'core 0 (all nodes share it)' : 'not pinned', generator: pin ? 'core 1' : 'not pinned', redisAndPostgres: pin ? 'core 1' : 'not pinned' },
      errors: one.errors + two.errors,
      errorSamples: [...one.errorSamples, ...two.errorSamples].slice(0, 5),
      closedUnexpectedly: one.closedUnexpectedly + two.closedUnexpectedly,
    };
  } finally {
    pg.stop();
    await redis.stop();
  }
}

/**
 * The jobs for one server: A, then B/F (and D when it has B's size) on one set of connections,
 * C, D (alone), D19, E.
 */
function jobsFor(/** @type {string} */ name) {
  const def = SERVERS[name];
  const want = (/** @type {string} */ sc) => scenarios.includes(sc);
  /** @type {Array<{ tag: string, covers: string[], run?: (srv: any) => Promise<Record<string, any>>, na?: string, recovery?: boolean, own?: boolean }>} */
  const jobs = [];
  // A and C share one room when they have the same number of subscribers (quick mode).
  const acTogether = want('A') && want('C') && params.A.subscribers === params.C.subscribers;
  const bigRoomJob = (/** @type {string[]} */ covers) => ({
    tag: covers.join(''),
    covers,
    run: async (/** @type {any} */ srv) => {
      const n = covers.includes('C') ? params.C.subscribers : params.A.subscribers;
      const r = await generate(srv, 'bigRoom', { subscribers: n, room: `big${covers.join('')}`, A: covers.includes('A') ? params.A : null, C: covers.includes('C') ? params.C : null }).result;
      if (r.failed) return Object.fromEntries(covers.map((sc) => [sc, { failed: r.failed }]));
      const errs = { errors: r.errors, errorSamples: r.errorSamples, closedUnexpectedly: r.closedUnexpectedly };
      return Object.fromEntries(covers.map((sc) => [sc, { ...r[sc], ...errs }]));
    },
  });
  if (acTogether) jobs.push(bigRoomJob(['C', 'A']));
  else if (want('A')) jobs.push(bigRoomJob(['A']));
  const dWithRooms = want('D') && (want('B') || want('F')) && params.D.conns === params.B.conns;
  if (want('B') || want('F')) {
    const covers = [...(want('B') ? ['B'] : []), ...(dWithRooms ? ['D'] : []), ...(want('F') ? ['F'] : [])];
    jobs.push({
      tag: covers.join(''),
      covers,
      run: async (srv) => {
        const rss0 = rssBytes(srv.pid) ?? NaN;
        const cpu0 = cpuSeconds(srv.pid) ?? NaN;
        /** @type {Record<string, any>} */
        const mem = {};
        const g = generate(
          srv,
          'rooms',
          {
            conns: params.B.conns,
            roomSize: params.B.roomSize,
            memory: dWithRooms,
            B: want('B') ? params.B : null,
            F: want('F') ? params.F : null,
          },
          async (m) => {
            if (m.ev !== 'ready') return;
            mem.setupCpu = (cpuSeconds(srv.pid) ?? NaN) - cpu0;
            status(`${currentLabel} · settling ${params.D.settleS} s`);
            await sleep(params.D.settleS * 1000);
            mem.rss1 = rssBytes(srv.pid) ?? NaN;
            g.send({ cmd: 'finish' });
          },
        );
        const r = await g.result;
        if (r.failed) return Object.fromEntries(covers.map((sc) => [sc, { failed: r.failed }]));
        const errs = { errors: r.errors, errorSamples: r.errorSamples, closedUnexpectedly: r.closedUnexpectedly };
        /** @type {Record<string, any>} */
        const out = {};
        if (r.B) out.B = { ...r.B, setupS: r.setup.setupS, ...errs };
        if (r.F) out.F = { ...r.F, setupS: r.setup.setupS, ...errs };
        if (dWithRooms) {
          const c = r.setup.connected;
          out.D = {
            requested: params.B.conns,
            connected: c,
            failedConns: r.setup.failedConns,
            stillOpen: r.setup.stillOpen,
            generators: 1,
            rssBeforeMB: round(rss0 / 2 ** 20, 1),
            rssAfterMB: round(mem.rss1 / 2 ** 20, 1),
            bytesPerConn: c > 0 ? Math.round((mem.rss1 - rss0) / c) : null,
            setupS: r.setup.setupS,
            connectPerS: Math.round(c / r.setup.setupS),
            setupCpuMsPerConn: c > 0 ? round((mem.setupCpu * 1000) / c, 2) : null,
            setupMonoWindowUs: r.setup.monoWindowUs,
            ...errs,
          };
        }
        return out;
      },
    });
  }
  if (want('C') && !acTogether) jobs.push(bigRoomJob(['C']));
  if (want('D') && !dWithRooms) jobs.push({ tag: 'D', covers: ['D'], run: async (srv) => ({ D: await memoryJob(srv, params.D) }) });
  if (want('D19')) {
    if (def.proto === 'roomcast') jobs.push({ tag: 'D19', covers: ['D19'], run: async (srv) => ({ D19: await memoryJob(srv, params.D19) }) });
    else jobs.push({ tag: 'D19', covers: ['D19'], na: 'roomcast only' });
  }
  if (want('G')) {
    if (name === 'roomcast') jobs.push({ tag: 'G', covers: ['G'], own: true, run: async () => ({ G: await clusterJob(params.G) }) });
    else jobs.push({ tag: 'G', covers: ['G'], na: def.proto === 'roomcast' ? 'the cluster runs persistent rooms: see roomcast' : 'roomcast only' });
  }
  if (want('H')) {
    if (name === 'roomcast') {
      jobs.push({
        tag: 'H',
        covers: ['H'],
        own: true,
        run: async () => ({ H: await soakJob(params.H, { serverCore: SERVER_CORE, genCore: GEN_CORE, pinned: pin, status: (text) => status(`${currentLabel} · ${text}`) }) }),
      });
    } else jobs.push({ tag: 'H', covers: ['H'], na: def.proto === 'roomcast' ? 'the soak runs persistent rooms: see roomcast' : 'roomcast only' });
  }
  if (want('E')) {
    if (def.history) jobs.push({ tag: 'E', covers: ['E'], recovery: true, run: async (srv) => ({ E: await generate(srv, 'E', params.E).result }) });
    else jobs.push({ tag: 'E', covers: ['E'], na: def.proto === 'roomcast' ? 'persist:false keeps no history' : 'no history or recovery' });
  }
  return jobs;
}

async function runAll() {
  /** @type {Record<string, Record<string, any>>} */
  const results = {};
  // Scenario by scenario, all servers in a row: slow drifts of a shared machine (other tenants,
  // the host) then shift one scenario's servers alike, and the ratios stay fair. Smoke mode
  // keeps each server's jobs together, since it reuses one server process for them.
  const byServer = servers.flatMap((s) => jobsFor(s).map((j, i) => ({ server: s, order: i, ...j })));
  const tagOrder = ['A', 'CA', 'B', 'BF', 'BDF', 'C', 'D', 'D19', 'E', 'G', 'H'];
  const plan = REUSE ? byServer : [...byServer].sort((a, b) => tagOrder.indexOf(a.tag) - tagOrder.indexOf(b.tag));
  stepCount = plan.filter((j) => !j.na).length;
  const info = machine();
  if (info.loadavgStart[0] > 1 && mode !== 'smoke') {
    process.stderr.write(`bench: load average is ${info.loadavgStart.join(' ')}; other work on this machine will disturb the numbers\n`);
  }
  for (const job of plan) {
    for (const sc of job.covers) results[sc] ??= {};
    if (job.na) {
      for (const sc of job.covers) results[sc][job.server] = { na: job.na };
      continue;
    }
    stepNo++;
    currentLabel = `${job.tag} · ${job.server}`;
    status(`${currentLabel} · starting`);
    let out;
    try {
      // G starts its own services and nodes.
      out = job.own ? await job.run?.(null) : await withServer(job.server, job.tag, { recovery: job.recovery && SERVERS[job.server].proto === 'socketio' }, job.run);
    } catch (err) {
      out = Object.fromEntries(job.covers.map((sc) => [sc, { failed: String(/** @type {Error} */ (err)?.message ?? err) }]));
    }
    for (const [sc, r] of Object.entries(out)) results[sc][job.server] = r;
    if (plan[plan.indexOf(job) + 1]?.server !== job.server) await stopKept();
    const summary = job.covers
      .map((sc) => {
        const r = out[sc];
        if (!r) return `${sc}: —`;
        if (r.failed) return `${sc}: FAILED ${String(r.failed).slice(0, 80)}`;
        if (sc === 'A' || sc === 'B' || sc === 'C') return `${sc}: ${Math.round(r.deliveriesPerS)}/s p99 ${r.latency?.p99} ms`;
        if (sc === 'D' || sc === 'D19') return `${sc}: ${r.connected} conns, ${(r.bytesPerConn / 1000).toFixed(1)} kB/conn`;
        if (sc === 'E') return `${sc}: ${r.catchUpS} s`;
        if (sc === 'F') return `${sc}: ${r.sustainablePerS}/s`;
        if (sc === 'G' && r.na) return `${sc}: n/a (${r.na})`;
        if (sc === 'G') return `${sc}: 1 node ${r.oneNode?.deliveriesPerS}/s, 2 nodes ${r.twoNodes?.deliveriesPerS}/s, Redis hop +${r.hop?.extraMs?.p50} ms p50`;
        if (sc === 'H') {
          const run = (/** @type {any} */ x) =>
            x.failed ? `FAILED ${String(x.failed).slice(0, 60)}` : `${x.server.alive ? 'alive' : 'CRASHED'}, RSS peak ${x.server.rssPeakMB} MB, p99 ${x.wellBehaved?.latency?.p99} ms, ${x.wellBehaved?.closedUnexpectedly} closed`;
          return `${sc}: without hostile ${run(r.baseline)}; with ${run(r.hostile)}`;
        }
        return sc;
      })
      .join(', ');
    status(`${currentLabel} · done: ${summary}`, true);
  }
  await stopKept();
  info.loadavgEnd = loadavg().map((v) => Math.round(v * 100) / 100);
  info.cpuPressureEnd = cpuPressure();
  return {
    mode,
    machine: info,
    pinned: pin,
    totalS: round((performance.now() - t0) / 1000, 1),
    servers,
    scenarios,
    params: Object.fromEntries(scenarios.map((sc) => [sc, params[sc]])),
    results,
  };
}

// ---- main ---------------------------------------------------------------------------------------

const run = opt.from ? JSON.parse(readFileSync(opt.from, 'utf8')) : await runAll();
run.ratios = ratios(run.results);
run.targets = targets(run.results);

if (opt.out) writeFileSync(opt.out, JSON.stringify(run, null, 2) + '\n');
if (opt.chart) writeFileSync(opt.chart, chartSvg(run));

if (opt.json) {
  process.stdout.write(JSON.stringify(run, null, 2) + '\n');
} else {
  const m = run.machine;
  process.stdout.write(
    `\nroomcast bench, ${run.mode} mode, ${run.totalS} s — ${m.cpuModel}, ${m.nproc} cores, node ${m.node}, load ${m.loadavgStart.join(' ')} → ${m.loadavgEnd?.join(' ')}` +
      `${run.pinned ? ', server on core 0, generator on core 1' : ', not pinned'}` +
      (m.roomcast ? `\nroomcast ${m.roomcast.commit}${m.roomcast.uncommittedServerChanges ? ' + uncommitted changes' : ''}, dist built ${m.roomcast.distBuilt}` : '') +
      '\n\n',
  );
  process.stdout.write(formatReport(run) + '\n');
}

if (opt.profile && !opt.from) {
  const dir = resolve(opt.profile);
  mkdirSync(dir, { recursive: true });
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  // Each profile covers a server's whole life; summarize the measurement windows of each scenario.
  const sections = [];
  for (const f of files) {
    const m = /^(.*)-([A-Z0-9]+)\.cpuprofile$/.exec(f);
    if (!m) continue;
    const [, server, tag] = m;
    for (const sc of ['A', 'B', 'C', 'F']) {
      if (!tag.includes(sc)) continue;
      const r = run.results[sc]?.[server];
      /** @type {Array<[number, number]>} */
      const windows = sc === 'F' ? (r?.trials ?? []).map((t) => t.monoWindowUs).filter(Boolean) : r?.monoWindowUs ? [r.monoWindowUs] : [];
      if (windows.length === 0) continue;
      sections.push(formatProfile(summarizeProfileFile(join(dir, f), 20, windows), `== ${server}, scenario ${sc} (measurement window only; ${f})`));
    }
    const d = tag.includes('D') ? run.results.D?.[server] ?? run.results.D19?.[server] : null;
    if (d?.setupMonoWindowUs) {
      sections.push(formatProfile(summarizeProfileFile(join(dir, f), 20, [d.setupMonoWindowUs]), `== ${server}, connecting and joining ${d.connected} connections (D's setup only; ${f})`));
    }
    sections.push(formatProfile(summarizeProfileFile(join(dir, f), 20), `== ${server}, whole run of ${tag} incl. connecting and joining (${f})`));
  }
  const text = sections.join('\n\n');
  writeFileSync(join(dir, 'summary.txt'), text + '\n');
  process.stderr.write(`\nCPU profiles in ${dir} (summary in ${join(dir, 'summary.txt')})\n`);
  if (!opt.json) process.stdout.write('\n' + text + '\n');
}

// The load generator: one child process of bench/run.mjs (pinned to its own core), driving one
// scenario against one server over lean raw-socket WebSocket clients. It receives its job over
// IPC, reports progress and a result, and measures the server's CPU (from /proc) over exactly
// the window in which it counts deliveries.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, marker, nowUs } from './lib/client.mjs';
import { Histogram } from './lib/hist.mjs';
import { CpuWindow, coreBusySeconds, treeCpuSeconds } from './lib/proc.mjs';
import { PROTOCOLS, request } from './lib/protocols.mjs';

/**
 * @typedef {object} Job
 * @property {string} scenario  A..F
 * @property {string} proto     roomcast | socketio | tutorial | minimal
 * @property {boolean} persist  roomcast: rooms with history (SQLite) or persist:false
 * @property {number} port
 * @property {number} pid       the server's process id
 * @property {boolean} pinned     server on core 0, generator on core 1
 * @property {number} [retries]   measure a window again this many times when other processes disturbed it
 * @property {Record<string, any>} params
 * @property {number[]} [ports]   (G) one port per cluster node; `port` is the first
 * @property {number[]} [pids]    (G) one pid per cluster node
 * @property {Record<string, number>} [services]  (G) pids of redis-server and the postmaster, whose CPU is measured too
 * @property {number | null} [servicesCore]        (G) the core Redis and PostgreSQL are pinned to
 */

const send = (/** @type {object} */ m) => process.send?.(m);
const progress = (/** @type {string} */ text) => send({ ev: 'progress', text });

/** @returns {Promise<any>} the next message from the orchestrator */
function nextCommand() {
  return new Promise((resolve) => process.once('message', resolve));
}

/** @param {Job} job */
function makePool(job) {
  const protocol = PROTOCOLS[job.proto];
  if (!protocol) throw new Error(`unknown protocol ${job.proto}`);
  return new Pool({ port: job.port, protocol, socketio: job.proto === 'socketio' });
}

/** Starts CPU meters for the server and this process and opens the delivery-counting window. */
function openWindow(/** @type {Pool} */ pool, /** @type {Job} */ job) {
  const server = new CpuWindow(job.pid);
  const gen = new CpuWindow(process.pid);
  pool.hist = new Histogram();
  pool.counted = 0;
  pool.counting = true;
  pool.latencyFrom = nowUs();
  pool.latencyTo = Infinity;
  const cores0 = coreBusySeconds();
  const mono0 = monoUs();
  server.start();
  gen.start();
  return () => {
    const s = server.stop();
    const g = gen.stop();
    const cores1 = coreBusySeconds();
    // CPU that other processes took on the two benchmark cores (when pinned): other work on
    // the machine competes with the server and the generator and disturbs the numbers.
    const other = (/** @type {number} */ core, /** @type {number} */ ours) =>
      cores0[core] === undefined || cores1[core] === undefined ? null : round((100 * Math.max(0, cores1[core] - cores0[core] - ours)) / s.wallS, 1);
    pool.counting = false;
    pool.latencyTo = nowUs();
    const deliveries = pool.counted;
    return {
      deliveries,
      windowS: round(s.wallS, 3),
      deliveriesPerS: Math.round(deliveries / s.wallS),
      serverCpuPct: round(s.pct, 1),
      serverCpuS: round(s.cpuS, 2),
      usPerDelivery: deliveries > 0 ? round((s.cpuS * 1e6) / deliveries, 2) : null,
      genCpuPct: round(g.pct, 1),
      otherCpuPct: job.pinned ? [other(0, s.cpuS), other(1, g.cpuS)] : null,
      // Monotonic µs, the clock of V8 CPU profiles: lets --profile look at this window only.
      monoWindowUs: [mono0, monoUs()],
    };
  };
}

const round = (/** @type {number} */ v, /** @type {number} */ d) => Math.round(v * 10 ** d) / 10 ** d;

/** Share of a benchmark core (%) that other processes may take before a window counts as disturbed. */
const DISTURBED_PCT = 20;

/**
 * Measures one window of `durationS` seconds; measures again (up to `job.retries` times) when
 * other processes on the machine took more than DISTURBED_PCT of either benchmark core.
 * `onOpen` runs as each window opens (to note counters at its start); `open` opens the window
 * (scenario G opens one over several pools).
 */
async function measureWindow(/** @type {Pool} */ pool, /** @type {Job} */ job, /** @type {number} */ durationS, onOpen = () => {}, open = () => openWindow(pool, job)) {
  for (let attempt = 1; ; attempt++) {
    onOpen();
    const close = open();
    await sleep(durationS * 1000);
    const m = { ...close(), attempts: attempt, disturbed: false };
    const other = Math.max(0, ...(m.otherCpuPct ?? []).map((v) => v ?? 0));
    m.disturbed = other > DISTURBED_PCT;
    if (!m.disturbed || attempt > (job.retries ?? 0)) return m;
    progress(`other processes took ${Math.round(other)}% of a core: measuring again`);
  }
}
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

/** Waits until `cond()` holds or `timeoutMs` passes; returns whether it held. */
async function until(cond, timeoutMs, stepMs = 5) {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(stepMs);
  }
  return true;
}

/** Waits until deliveries stop arriving for `quietMs` (the server has drained), at most `maxMs`. */
async function quiet(/** @type {Pool} */ pool, quietMs = 300, maxMs = 5000) {
  const end = performance.now() + maxMs;
  let last = -1;
  while (performance.now() < end) {
    const now = pool.deliveries + pool.otherFrames;
    if (now === last) return;
    last = now;
    await sleep(quietMs);
  }
}

/**
 * Connects `count` clients in rooms of `roomSize` (the first of each room creates it, then the
 * others join) and returns the rooms' members. Failures are counted, not thrown, when `tolerant`.
 */
async function fillRooms(/** @type {Pool} */ pool, /** @type {Job} */ job, o) {
  const { prefix, count, roomSize, offset = 0, tolerant = false } = o;
  const proto = pool.protocol;
  const nRooms = Math.ceil(count / roomSize);
  /** @type {import('./lib/client.mjs').Client[][]} */
  const rooms = Array.from({ length: nRooms }, () => []);
  let done = 0;
  let failed = 0;
  const started = performance.now();
  const mono0 = monoUs();
  let lastReport = started;
  const one = async (/** @type {number} */ r, /** @type {number} */ j) => {
    const i = offset + r * roomSize + j;
    const room = `${prefix}${Math.floor(i / roomSize)}`;
    try {
      const c = await pool.connect(`${prefix}${i}`);
      c.room = room;
      if (j === 0) await proto.create(c, room, job.persist);
      else await proto.join(c, room);
      rooms[r].push(c);
      done++;
    } catch (err) {
      failed++;
      pool.error(`connect/join ${prefix}${i}: ${/** @type {Error} */ (err).message}`);
      if (!tolerant) throw err;
    }
    if (performance.now() - lastReport > 500) {
      lastReport = performance.now();
      progress(`connecting ${done}/${count}`);
    }
  };
  await Pool.parallel(nRooms, Math.max(1, Math.floor((o.concurrency ?? 256) / roomSize)), async (r) => {
    const size = Math.min(roomSize, count - r * roomSize);
    await one(r, 0);
    if (rooms[r].length === 0) return;
    await Promise.all(Array.from({ length: size - 1 }, (_, k) => one(r, k + 1)));
  });
  return { rooms, connected: done, failed, setupS: round((performance.now() - started) / 1000, 2), monoWindowUs: [mono0, monoUs()] };
}

/**
 * Sends `ratePerS` messages a second, round-robin over `senders`, each to its own room, on a
 * 1 ms timer; returns controls and how far behind schedule the generator fell.
 */
function pace(/** @type {Pool} */ pool, senders, ratePerS) {
  const proto = pool.protocol;
  const t0 = performance.now();
  const state = { sent: 0, maxLagMs: 0, stop: () => clearInterval(timer), rate: ratePerS };
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * ratePerS) / 1000);
    const lagMs = ((due - state.sent) / ratePerS) * 1000;
    if (lagMs > state.maxLagMs) state.maxLagMs = lagMs;
    while (state.sent < due) {
      const c = senders[state.sent % senders.length];
      c.send(proto.publish(c, c.room, marker()));
      state.sent++;
    }
  }, 1);
  return state;
}

/** Members ordered so that consecutive sends go to different rooms. */
function interleave(rooms) {
  const out = [];
  const longest = Math.max(...rooms.map((r) => r.length));
  for (let j = 0; j < longest; j++) for (const r of rooms) if (r[j]) out.push(r[j]);
  return out;
}

function errorsOf(/** @type {Pool} */ pool) {
  return { errors: pool.errors, errorSamples: pool.errorSamples, closedUnexpectedly: pool.closedUnexpectedly };
}

// ---- scenarios ----------------------------------------------------------------------------

/**
 * Scenarios A and C share one shape: one room, one publisher, `subscribers` members. One job
 * sets it up once and runs C (a paced publisher, for latency) and then A (as fast as the
 * server goes with `inflight` messages outstanding), whichever its params ask for.
 */
async function bigRoom(/** @type {Job} */ job) {
  const p = job.params;
  const pool = makePool(job);
  const proto = pool.protocol;
  const started = performance.now();
  const room = p.room ?? 'big';
  const pub = await pool.connect('pub');
  pub.room = room;
  await proto.create(pub, room, job.persist);
  /** @type {import('./lib/client.mjs').Client[]} */
  const subs = [];
  // Batches in order keep the join order: the probe, the last to join, is the last written to.
  for (let i = 0; i < p.subscribers; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, p.subscribers - i) }, async (_, k) => {
        const c = await pool.connect(`s${i + k}`);
        await proto.join(c, room);
        return c;
      }),
    );
    subs.push(...batch);
    progress(`connecting ${subs.length}/${p.subscribers}`);
  }
  // roomcast tells every member about every join: wait until that storm has passed.
  await quiet(pool, 200, 60000);
  const setupS = round((performance.now() - started) / 1000, 2);
  /** @type {Record<string, any>} */
  const out = {};
  if (p.C) out.C = { ...(await latency(pool, job, pub, p.subscribers, p.C)), setupS };
  if (p.A) out.A = { ...(await fanout(pool, job, pub, subs[subs.length - 1], p.A)), setupS };
  Object.assign(out, errorsOf(pool));
  return out;
}

/**
 * Paces `senders` at `ratePerS` messages a second in all, warms up, measures one window, stops.
 * Returns the window and the deliveries it owes (messages sent in it × `fanout`).
 */
async function pacedWindow(/** @type {Pool} */ pool, /** @type {Job} */ job, senders, /** @type {number} */ ratePerS, /** @type {number} */ fanout, p) {
  progress('warming up');
  const pacing = pace(pool, senders, ratePerS);
  await sleep(p.warmupS * 1000);
  progress('measuring');
  let sent0 = 0;
  const m = await measureWindow(pool, job, p.durationS, () => (sent0 = pacing.sent));
  const expected = (pacing.sent - sent0) * fanout;
  pacing.stop();
  return { m, expected, pacing };
}

/** (C) latency: one publisher at `ratePerS` messages a second. */
async function latency(/** @type {Pool} */ pool, /** @type {Job} */ job, pub, subscribers, p) {
  const { m, expected, pacing } = await pacedWindow(pool, job, [pub], p.ratePerS, subscribers, p);
  await until(() => pool.hist.n >= expected, 3000);
  const res = {
    ...m,
    latency: pool.hist.summary(),
    deliveredShare: expected > 0 ? round(pool.hist.n / expected, 4) : null,
    genMaxLagMs: round(pacing.maxLagMs, 1),
  };
  await quiet(pool, 100, 5000);
  return res;
}

/** (A) fan-out: the publisher keeps `inflight` messages between its send and the probe's receipt. */
async function fanout(/** @type {Pool} */ pool, /** @type {Job} */ job, pub, probe, p) {
  let sent = 0;
  const base = probe.received;
  let running = true;
  const pump = () => {
    while (running && sent - (probe.received - base) < p.inflight) {
      pub.send(pool.protocol.publish(pub, pub.room, marker()));
      sent++;
    }
  };
  pool.onDelivery = (c) => {
    if (c === probe) pump();
  };
  progress('warming up');
  pump();
  await sleep(p.warmupS * 1000);
  progress('measuring');
  const m = await measureWindow(pool, job, p.durationS);
  running = false;
  const drained = await until(() => probe.received - base >= sent, 5000);
  pool.onDelivery = null;
  return { ...m, latency: pool.hist.summary(), messages: sent, drained };
}

/** (E) catch-up: a member misses `missed` messages, reconnects, and receives them all. */
async function catchUp(/** @type {Job} */ job) {
  const p = job.params;
  const pool = makePool(job);
  const proto = pool.protocol;
  const isRoomcast = job.proto === 'roomcast';
  const pub = await pool.connect('pub');
  await proto.create(pub, 'cu', true);
  const probe = await pool.connect('probe');
  await proto.join(probe, 'cu');
  const member = await pool.connect('member');
  await proto.join(member, 'cu');

  // One live message, so the member knows where it is (roomcast: seq; Socket.IO: offset).
  /** @type {string | null} */
  let first = null;
  member.tap = (f) => {
    if (f.includes('@T')) first = f;
  };
  pub.send(proto.publish(pub, 'cu', marker()));
  if (!(await until(() => first !== null, 5000))) throw new Error('the member never received the first message');
  member.tap = null;
  const firstFrame = /** @type {string} */ (/** @type {unknown} */ (first));
  /** @type {number | undefined} */
  let since;
  if (isRoomcast) since = Number(/"seq":(\d+)/.exec(firstFrame)?.[1]);
  else {
    const args = JSON.parse(firstFrame.slice(2));
    member.recover = { pid: member.pid, offset: args[args.length - 1] };
  }
  const guest = member.guest;
  pool.stopping = true;
  member.close();
  pool.stopping = false;
  await sleep(200);

  progress(`publishing ${p.missed} messages`);
  const base = probe.received;
  let sent = 0;
  const t0 = performance.now();
  const window = 64;
  const pump = () => {
    while (sent < p.missed && sent - (probe.received - base) < window) {
      pub.send(proto.publish(pub, 'cu', marker()));
      sent++;
    }
  };
  pool.onDelivery = (c) => {
    if (c === probe) pump();
  };
  pump();
  if (!(await until(() => probe.received - base >= p.missed, 60000))) throw new Error('publishing the missed messages stalled');
  const publishS = (performance.now() - t0) / 1000;
  pool.onDelivery = null;

  progress('catching up');
  const server = new CpuWindow(job.pid);
  server.start();
  const r0 = performance.now();
  const back = await pool.connect('member', (c) => {
    c.guest = guest;
    c.recover = member.recover;
  });
  if (isRoomcast) await request(back, `"op":"join","room":"cu","since":${since}`);
  else if (back.pid !== member.pid) throw new Error('Socket.IO did not recover the session');
  const complete = await until(() => back.received >= p.missed, 30000, 1);
  const catchUpS = (performance.now() - r0) / 1000;
  const s = server.stop();
  return {
    catchUpS: round(catchUpS, 3),
    received: back.received,
    complete,
    deliveriesPerS: Math.round(back.received / catchUpS),
    serverCpuPct: round(s.pct, 1),
    publishPerS: Math.round(p.missed / publishS),
    ...errorsOf(pool),
  };
}

/**
 * Scenarios B, D and F share one shape: connections in rooms of `roomSize`. One job sets them up
 * once and then runs, in order, whichever of these its params ask for:
 *   memory — report "ready" and wait while the orchestrator reads the server's RSS (D);
 *   B      — every connection sends `ratePerConn` msg/s: deliveries/s, latency, CPU (B);
 *   F      — raise that rate until p99 passes the limit or messages go missing (F).
 */
async function rooms(/** @type {Job} */ job) {
  const p = job.params;
  const pool = makePool(job);
  const from = p.from ?? 0;
  const to = p.to ?? p.conns;
  const setup = await fillRooms(pool, job, {
    prefix: p.prefix ?? 'r',
    count: to - from,
    offset: from,
    roomSize: p.roomSize,
    tolerant: Boolean(p.memory),
    concurrency: 200,
  });
  await quiet(pool, 200, 10000);
  /** @type {Record<string, any>} */
  const out = { setup: { connected: setup.connected, failedConns: setup.failed, setupS: setup.setupS, monoWindowUs: setup.monoWindowUs } };
  if (p.memory) {
    send({ ev: 'ready', ...out.setup });
    await nextCommand(); // the orchestrator has read the server's memory
    out.setup.stillOpen = pool.clients.filter((c) => c.ws && !c.ws.closed).length;
  }
  const senders = interleave(setup.rooms);
  const fanout = p.roomSize - 1;
  if (p.B) out.B = await manyRooms(pool, job, senders, fanout, p.B);
  if (p.F) {
    // Start the search near what B's CPU cost per delivery predicts one core can carry.
    const start = out.B?.usPerDelivery ? Math.max(1000, Math.round((0.6 * 1e6) / out.B.usPerDelivery)) : p.F.startRate;
    out.F = await capacity(pool, job, senders, fanout, { ...p.F, startRate: start });
  }
  Object.assign(out, errorsOf(pool));
  return out;
}

/** (B) many rooms: every connection sends `ratePerConn` messages a second to its room. */
async function manyRooms(/** @type {Pool} */ pool, /** @type {Job} */ job, senders, fanout, p) {
  const { m, expected, pacing } = await pacedWindow(pool, job, senders, senders.length * p.ratePerConn, fanout, p);
  // An overloaded server still owes the backlog: wait for it, so F starts from an idle server.
  await until(() => pool.hist.n >= expected, 3000);
  const backlogUntil = performance.now() + 60000;
  const owed = pacing.sent * fanout;
  const res = {
    ...m,
    offeredPerS: Math.round(senders.length * p.ratePerConn * fanout),
    latency: pool.hist.summary(),
    deliveredShare: expected > 0 ? round(pool.hist.n / expected, 4) : null,
    genMaxLagMs: round(pacing.maxLagMs, 1),
  };
  await until(() => pool.deliveries >= owed, Math.max(0, backlogUntil - performance.now()), 20);
  await quiet(pool, 300, 10000);
  return res;
}

/** (F) capacity: raise B's rate until p99 passes the limit or messages go missing. */
async function capacity(/** @type {Pool} */ pool, /** @type {Job} */ job, senders, fanout, p) {
  /** @type {any[]} */
  const trials = [];
  const trial = async (/** @type {number} */ offered) => {
    for (let attempt = 1; ; attempt++) {
      const done = await trialOnce(offered, attempt);
      if (done !== null) return done;
    }
  };
  /** One try at a rate; null when other processes disturbed it and it should run again. */
  const trialOnce = async (/** @type {number} */ offered, /** @type {number} */ attempt) => {
    progress(`trial at ${Math.round(offered)} deliveries/s`);
    const pacing = pace(pool, senders, offered / fanout);
    await sleep(p.trialWarmS * 1000);
    const sent0 = pacing.sent;
    const m = { ...(await measureWindow(pool, { ...job, retries: 0 }, p.trialS)), attempts: attempt };
    const sentInWindow = pacing.sent - sent0;
    pacing.stop();
    if (m.disturbed && attempt <= (job.retries ?? 0)) {
      await quiet(pool, 300, 20000);
      return null;
    }
    const expected = sentInWindow * fanout;
    await until(() => pool.hist.n >= expected, 1500);
    const lat = pool.hist.summary();
    const share = expected > 0 ? pool.hist.n / expected : 0;
    const pass = lat.p99 !== null && lat.p99 < p.p99LimitMs && share >= 0.99 && pool.closedUnexpectedly === 0;
    trials.push({ offeredPerS: Math.round(offered), ...m, latency: lat, deliveredShare: round(share, 4), genMaxLagMs: round(pacing.maxLagMs, 1), pass });
    await quiet(pool, 200, 10000);
    return pass;
  };
  let rate = p.startRate;
  let best = 0;
  let firstFail = Infinity;
  for (let step = 0; step < p.maxSteps; step++) {
    if (await trial(rate)) {
      best = Math.max(best, rate);
      if (firstFail !== Infinity) break;
      rate *= p.factor;
    } else {
      firstFail = Math.min(firstFail, rate);
      if (best > 0) break;
      rate /= p.factor;
    }
  }
  // Bisect between the best pass and the first failure.
  for (let i = 0; i < p.refineSteps && best > 0 && firstFail !== Infinity && firstFail / best > 1.08; i++) {
    const mid = Math.sqrt(best * firstFail);
    if (await trial(mid)) best = mid;
    else firstFail = mid;
  }
  const bestTrial = trials.filter((t) => t.pass).sort((a, b) => b.offeredPerS - a.offeredPerS)[0];
  // Who gave out first: when the first failing load had the generator saturated and the server
  // not, the server's capacity is higher than reported (a lower bound).
  const failing = trials.filter((t) => !t.pass).sort((a, b) => a.offeredPerS - b.offeredPerS)[0];
  const limitedBy = !failing ? 'not reached' : failing.genCpuPct >= 90 && failing.serverCpuPct < 90 ? 'generator' : 'server';
  return {
    sustainablePerS: Math.round(best),
    limitedBy,
    firstFailPerS: firstFail === Infinity ? null : Math.round(firstFail),
    latency: bestTrial?.latency ?? null,
    usPerDelivery: bestTrial?.usPerDelivery ?? null,
    serverCpuPct: bestTrial?.serverCpuPct ?? null,
    genCpuPct: bestTrial?.genCpuPct ?? null,
    trials,
  };
}

// ---- G: cluster ---------------------------------------------------------------------------

/** Waits until no pool has received anything for `quietMs`, at most `maxMs`. */
async function quietAll(/** @type {Pool[]} */ pools, quietMs = 300, maxMs = 5000) {
  const end = performance.now() + maxMs;
  let last = -1;
  while (performance.now() < end) {
    const now = pools.reduce((n, p) => n + p.deliveries + p.otherFrames, 0);
    if (now === last) return;
    last = now;
    await sleep(quietMs);
  }
}

/**
 * The counting window of G: like openWindow, over one pool per node, with the CPU of every node
 * (summed and each), of this generator, and of Redis and PostgreSQL (the postmaster and all its
 * backends). Per node: its deliveries and latency histogram.
 */
function openClusterWindow(/** @type {Pool[]} */ pools, /** @type {Job} */ job) {
  const pids = /** @type {number[]} */ (job.pids);
  const nodes = pids.map((pid) => new CpuWindow(pid));
  const gen = new CpuWindow(process.pid);
  const services = Object.entries(job.services ?? {});
  const svc0 = services.map(([, pid]) => treeCpuSeconds(pid) ?? NaN);
  const from = nowUs();
  for (const pool of pools) {
    pool.hist = new Histogram();
    pool.counted = 0;
    pool.counting = true;
    pool.latencyFrom = from;
    pool.latencyTo = Infinity;
  }
  const cores0 = coreBusySeconds();
  const mono0 = monoUs();
  for (const n of nodes) n.start();
  gen.start();
  return () => {
    const ns = nodes.map((n) => n.stop());
    const g = gen.stop();
    const cores1 = coreBusySeconds();
    const to = nowUs();
    for (const pool of pools) {
      pool.counting = false;
      pool.latencyTo = to;
    }
    const svcS = services.map(([, pid], i) => (treeCpuSeconds(pid) ?? NaN) - svc0[i]);
    const wallS = g.wallS;
    const nodesCpuS = ns.reduce((a, n) => a + n.cpuS, 0);
    const svcCpuS = svcS.reduce((a, v) => a + v, 0);
    // CPU other processes took on the benchmark cores: core 0 holds the nodes; core 1 the
    // generator, and Redis and PostgreSQL when they are pinned there.
    const other = (/** @type {number} */ core, /** @type {number} */ ours) =>
      cores0[core] === undefined || cores1[core] === undefined ? null : round((100 * Math.max(0, cores1[core] - cores0[core] - ours)) / wallS, 1);
    const deliveries = pools.reduce((a, p) => a + p.counted, 0);
    const hist = new Histogram();
    for (const pool of pools) hist.merge(pool.hist);
    return {
      deliveries,
      windowS: round(wallS, 3),
      deliveriesPerS: Math.round(deliveries / wallS),
      serverCpuPct: round((100 * nodesCpuS) / wallS, 1),
      serverCpuS: round(nodesCpuS, 3),
      usPerDelivery: deliveries > 0 ? round((nodesCpuS * 1e6) / deliveries, 2) : null,
      latency: hist.summary(),
      genCpuPct: round(g.pct, 1),
      services: Object.fromEntries(services.map(([name], i) => [name, { cpuS: round(svcS[i], 3), cpuPct: round((100 * svcS[i]) / wallS, 1) }])),
      otherCpuPct: job.pinned ? [other(0, nodesCpuS), other(1, g.cpuS + (job.servicesCore === 1 ? svcCpuS : 0))] : null,
      monoWindowUs: [mono0, monoUs()],
      nodes: pools.map((pool, i) => ({
        deliveries: pool.counted,
        deliveriesPerS: Math.round(pool.counted / wallS),
        cpuS: round(ns[i].cpuS, 3),
        cpuPct: round((100 * ns[i].cpuS) / wallS, 1),
        usPerDelivery: pool.counted > 0 ? round((ns[i].cpuS * 1e6) / pool.counted, 2) : null,
        latency: pool.hist.summary(),
      })),
    };
  };
}

/** Per-message CPU figures of a window in which each node's subscribers got every message. */
function perMessage(/** @type {any} */ m, /** @type {number[]} */ subsPerNode) {
  // Every message reaches every subscriber, so a node's messages = its deliveries / its subscribers.
  const total = subsPerNode.reduce((a, b) => a + b, 0);
  const messages = total > 0 ? m.deliveries / total : 0;
  const us = (/** @type {number} */ cpuS, /** @type {number} */ n) => (n > 0 ? round((cpuS * 1e6) / n, 1) : null);
  return {
    ...m,
    messagesPerS: Math.round(messages / m.windowS),
    usPerMessage: us(m.serverCpuS, messages),
    services: Object.fromEntries(Object.entries(m.services).map(([k, v]) => [k, { ...v, usPerMessage: us(v.cpuS, messages) }])),
    nodes: m.nodes.map((/** @type {any} */ n, /** @type {number} */ i) => {
      const msgs = subsPerNode[i] > 0 ? n.deliveries / subsPerNode[i] : 0;
      return { ...n, subscribers: subsPerNode[i], messages: Math.round(msgs), usPerMessage: us(n.cpuS, msgs) };
    }),
  };
}

/**
 * (G) cluster: A's fan-out with the subscribers spread over the nodes (one pool per node, the
 * publisher on the first), then, with two nodes, the Redis hop: a few subscribers on each node
 * and a publisher at a low rate, so that latency and CPU per message show the hop itself.
 */
async function cluster(/** @type {Job} */ job) {
  const p = job.params;
  const protocol = PROTOCOLS.roomcast;
  const ports = job.ports ?? [job.port];
  const pools = ports.map((port) => new Pool({ port, protocol, socketio: false }));
  const [home] = pools;
  const started = performance.now();
  /** @type {Record<string, any>} */
  const out = {};
  const room = 'gfan';
  const pub = await home.connect('pub');
  pub.room = room;
  await protocol.create(pub, room, true);
  /** @type {import('./lib/client.mjs').Client[][]} */
  const subs = pools.map(() => []);
  for (let i = 0; i < p.subscribers; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, p.subscribers - i) }, async (_, k) => {
        const node = (i + k) % pools.length;
        const c = await pools[node].connect(`s${i + k}`);
        await protocol.join(c, room);
        return /** @type {const} */ ([node, c]);
      }),
    );
    for (const [node, c] of batch) subs[node].push(c);
    progress(`connecting ${subs.reduce((n, s) => n + s.length, 0)}/${p.subscribers}`);
  }
  await quietAll(pools, 200, 60000);
  const setupS = round((performance.now() - started) / 1000, 2);

  // Fan-out: a message counts as done when the last subscriber on every node has it.
  const probes = subs.map((s) => s[s.length - 1]);
  const base = probes.map((c) => c.received);
  const done = () => Math.min(...probes.map((c, i) => c.received - base[i]));
  let sent = 0;
  let running = true;
  const pump = () => {
    while (running && sent - done() < p.inflight) {
      pub.send(protocol.publish(pub, room, marker()));
      sent++;
    }
  };
  for (const pool of pools) {
    pool.onDelivery = (c) => {
      if (probes.includes(c)) pump();
    };
  }
  progress('fan-out: warming up');
  pump();
  await sleep(p.warmupS * 1000);
  progress('fan-out: measuring');
  const m = await measureWindow(pools[0], job, p.durationS, () => {}, () => openClusterWindow(pools, job));
  running = false;
  const drained = await until(() => done() >= sent, 10000);
  for (const pool of pools) pool.onDelivery = null;
  out.fanout = { ...perMessage(m, subs.map((s) => s.length)), messages: sent, drained, setupS };
  await quietAll(pools, 200, 10000);

  if (pools.length > 1 && p.hopSubsPerNode > 0) {
    progress('Redis hop: connecting');
    const hroom = 'ghop';
    const hpub = await home.connect('hpub');
    hpub.room = hroom;
    await protocol.create(hpub, hroom, true);
    for (const [node, pool] of pools.entries()) {
      for (let k = 0; k < p.hopSubsPerNode; k++) {
        const c = await pool.connect(`h${node}x${k}`);
        await protocol.join(c, hroom);
      }
    }
    await quietAll(pools, 200, 10000);
    progress('Redis hop: warming up');
    const pacing = pace(home, [hpub], p.hopRatePerS);
    await sleep(p.hopWarmupS * 1000);
    progress('Redis hop: measuring');
    let sent0 = 0;
    const h = await measureWindow(pools[0], job, p.hopDurationS, () => (sent0 = pacing.sent), () => openClusterWindow(pools, job));
    const sentInWindow = pacing.sent - sent0;
    pacing.stop();
    // Late deliveries of the window's messages still count for latency (not for deliveries/s).
    await until(() => pools.every((pool) => pool.hist.n >= sentInWindow * p.hopSubsPerNode), 3000);
    const lat = pools.map((pool) => pool.hist.summary());
    const diff = (/** @type {'p50' | 'p99' | 'mean'} */ k) => {
      const a = lat[0][k];
      const b = lat[1][k];
      return typeof a === 'number' && typeof b === 'number' ? round(b - a, 3) : null;
    };
    const r = perMessage(h, pools.map(() => p.hopSubsPerNode));
    out.hop = {
      ...r,
      ratePerS: p.hopRatePerS,
      subscribersPerNode: p.hopSubsPerNode,
      sent: sentInWindow,
      nodes: r.nodes.map((/** @type {any} */ n, /** @type {number} */ i) => ({ ...n, latency: lat[i], deliveredShare: sentInWindow > 0 ? round(pools[i].hist.n / (sentInWindow * p.hopSubsPerNode), 4) : null })),
      extraMs: { p50: diff('p50'), p99: diff('p99'), mean: diff('mean') },
      genMaxLagMs: round(pacing.maxLagMs, 1),
    };
    await quietAll(pools, 100, 5000);
  }
  out.errors = pools.reduce((n, pool) => n + pool.errors, 0);
  out.errorSamples = pools.flatMap((pool) => pool.errorSamples).slice(0, 5);
  out.closedUnexpectedly = pools.reduce((n, pool) => n + pool.closedUnexpectedly, 0);
  return out;
}

// ---- H: the well-behaved side of the hostile soak -------------------------------------------

/**
 * (H) well-behaved clients: `rooms` rooms of `roomSize`, each client sending a marked message
 * every `sendEveryS` seconds and reading everything. Connects, reports "ready" (the orchestrator
 * then starts the hostile clients, or not), waits for "go", warms up, and counts one window of
 * `durationS` seconds. A "finish" during the window (the server died) ends it early: what was
 * measured until then is still the result. Every close the clients did not ask for is counted,
 * by close code; the server's CPU comes from the orchestrator, which outlives a crash.
 */
async function soak(/** @type {Job} */ job) {
  const p = job.params;
  const pool = makePool(job);
  const setup = await fillRooms(pool, job, { prefix: 'w', count: p.rooms * p.roomSize, roomSize: p.roomSize, tolerant: true, concurrency: 200 });
  await quiet(pool, 200, 10000);
  // One listener for both commands: "finish" may come right after "go", or instead of it.
  let finished = false;
  /** @type {() => void} */
  let onGo = () => {};
  /** @type {() => void} */
  let onFinish = () => {};
  const go = new Promise((r) => (onGo = () => r(undefined)));
  const finish = new Promise((r) => (onFinish = () => r(undefined)));
  process.on('message', (/** @type {any} */ m) => {
    if (m?.cmd === 'go') onGo();
    if (m?.cmd === 'finish') {
      finished = true;
      onGo();
      onFinish();
    }
  });
  send({ ev: 'ready', connected: setup.connected, failedConns: setup.failed, rooms: setup.rooms.map((r) => r[0]?.room).filter(Boolean) });
  await go;
  const senders = interleave(setup.rooms);
  const fanout = p.roomSize - 1;
  progress('warming up');
  const pacing = pace(pool, senders, senders.length / p.sendEveryS);
  await Promise.race([sleep(p.warmupS * 1000), finish]);
  const sent0 = pacing.sent;
  // The orchestrator samples the server's CPU as the window opens and closes (it outlives a crash).
  send({ ev: 'window', open: true });
  const close = openWindow(pool, job);
  const windowEnd = performance.now() + p.durationS * 1000;
  // A long window reports where it stands every few seconds.
  while (!finished && performance.now() < windowEnd) {
    await Promise.race([sleep(Math.min(5000, windowEnd - performance.now())), finish]);
    const lat = pool.hist.summary();
    progress(`measuring ${Math.round(p.durationS - (windowEnd - performance.now()) / 1000)}/${p.durationS} s, p99 ${lat.p99 ?? '—'} ms, ${pool.closedUnexpectedly} closed`);
  }
  const m = close();
  send({ ev: 'window', open: false });
  const sentInWindow = pacing.sent - sent0;
  pacing.stop();
  // Late deliveries of the window's messages still count for latency (not for deliveries/s).
  const expected = sentInWindow * fanout;
  if (!finished) await until(() => pool.hist.n >= expected, 3000);
  return {
    requested: p.rooms * p.roomSize,
    connected: setup.connected,
    failedConns: setup.failed,
    setupS: setup.setupS,
    windowS: m.windowS,
    cutShort: finished,
    sent: sentInWindow,
    deliveries: m.deliveries,
    deliveriesPerS: m.deliveriesPerS,
    deliveredShare: expected > 0 ? round(pool.hist.n / expected, 4) : null,
    latency: pool.hist.summary(),
    genCpuPct: m.genCpuPct,
    otherCpuPct: m.otherCpuPct,
    genMaxLagMs: round(pacing.maxLagMs, 1),
    closeCodes: pool.closeCodes,
    stillOpen: pool.clients.filter((c) => c.ws && !c.ws.closed).length,
    ...errorsOf(pool),
  };
}

const SCENARIOS = { bigRoom, rooms, E: catchUp, cluster, soak };

async function main() {
  // The orchestrator went away (interrupted): do not linger with thousands of sockets.
  process.on('disconnect', () => process.exit(0));
  const { job } = await nextCommand();
  const run = SCENARIOS[/** @type {keyof typeof SCENARIOS} */ (job.scenario)];
  try {
    if (!run) throw new Error(`unknown scenario ${job.scenario}`);
    const result = await run(job);
    send({ ev: 'result', result });
  } catch (err) {
    send({ ev: 'result', result: { failed: String(/** @type {Error} */ (err)?.message ?? err) } });
  }
  // Leave without closing handshakes: the orchestrator stops the server next.
  setTimeout(() => process.exit(0), 50);
}

void main();

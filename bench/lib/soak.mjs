// Scenario H, the hostile soak: the same well-behaved load twice, each time on a fresh roomcast
// (SQLite, default --rate and --send-buffer), first alone and then beside hostile clients of four
// kinds, each kind in a process of its own. The orchestrator samples the server's RSS and CPU
// every second from /proc, and notices when it dies: a crash ends that run early and is reported
// as a crash with the numbers measured until then, never as a failure of the benchmark.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, rssBytes } from './proc.mjs';
import { HOSTILE_KINDS } from './scenarios.mjs';
import { startGenerator, startServer } from './servers.mjs';

const round = (/** @type {number} */ v, /** @type {number} */ d) => Math.round(v * 10 ** d) / 10 ** d;
const MB = 2 ** 20;

/** RSS and CPU of one process, sampled every second (and on demand) while it lives. */
class Sampler {
  constructor(/** @type {number} */ pid) {
    this.pid = pid;
    /** @type {Array<{ t: number, rss: number, cpu: number }>} */
    this.samples = [];
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }
  /** Takes a sample now; returns it (null once the process is gone). */
  sample() {
    const rss = rssBytes(this.pid);
    const cpu = cpuSeconds(this.pid);
    if (rss === null || cpu === null) return null;
    const s = { t: performance.now(), rss, cpu };
    this.samples.push(s);
    return s;
  }
  stop() {
    this.sample();
    clearInterval(this.timer);
  }
  /** The last sample taken at or before `t` (the first one if none was). */
  at(/** @type {number} */ t) {
    let s = this.samples[0];
    for (const x of this.samples) if (x.t <= t) s = x;
    return s;
  }
}

/** The server's own counters at the end of a run (slow consumers, rate-limited frames, …). */
async function serverStats(/** @type {number} */ port) {
  try {
    // A server still working off a backlog answers late: give it time.
    const res = await fetch(`http://127.0.0.1:${port}/api/stats`, { signal: AbortSignal.timeout(10000) });
    return res.ok ? await res.json() : { status: res.status };
  } catch (err) {
    return { error: String(/** @type {Error} */ (err)?.message ?? err).slice(0, 100) };
  }
}

/** Resolves with `p`'s value, or with `fallback` after `ms` (a timer that does not keep the bench alive). */
const within = (/** @type {Promise<any>} */ p, /** @type {number} */ ms, /** @type {any} */ fallback) =>
  Promise.race([p, sleep(ms, fallback, { ref: false })]);

/**
 * One run: a fresh server, the well-behaved clients connected, then (with `hostile`) the hostile
 * processes, a ramp, "go" for the warm-up and the window, and the tallies.
 * @param {Record<string, number>} p  H's params
 * @param {{ serverCore: number | null, genCore: number | null, pinned: boolean, status: (text: string) => void }} o
 */
async function soakRun(p, o, /** @type {boolean} */ hostile) {
  const label = hostile ? `with ${4 * p.hostilePerKind} hostile` : 'well-behaved only';
  o.status(`${label}: starting roomcast`);
  const srv = await startServer('roomcast', { core: o.serverCore, soak: true });
  const t0 = performance.now();
  const sampler = new Sampler(srv.pid);
  /** @type {Array<ReturnType<typeof startGenerator> & { kind: string }>} */
  const hostiles = [];
  try {
    /** @type {(m: any) => void} */
    let onReady = () => {};
    const ready = new Promise((r) => (onReady = r));
    /** Samples as the window opened and closed (the last one alive if the server died in it). */
    /** @type {{ open: any, close: any }} */
    const win = { open: null, close: null };
    const gen = startGenerator(
      { scenario: 'soak', proto: 'roomcast', persist: true, port: srv.port, pid: srv.pid, pinned: o.pinned, retries: 0, params: p },
      {
        core: o.genCore,
        onEvent: (m) => {
          if (m.ev === 'ready') onReady(m);
          else if (m.ev === 'progress') o.status(`${label} · ${m.text}`);
          else if (m.ev === 'window') {
            const s = sampler.sample() ?? sampler.samples[sampler.samples.length - 1] ?? null;
            if (m.open) win.open = s;
            else win.close = s;
          }
        },
      },
    );
    void gen.result.then(() => onReady(null));
    const setup = await ready;
    if (setup === null) return { failed: (await gen.result).failed ?? 'the generator ended before it was ready', hostileClients: 0 };

    // The server dying ends the window now: what was measured until then is the result.
    srv.onExit(() => gen.send({ cmd: 'finish' }));
    if (hostile) {
      o.status(`${label}: starting the hostile clients`);
      const readies = [];
      for (const kind of HOSTILE_KINDS) {
        /** @type {() => void} */
        let r = () => {};
        readies.push(new Promise((res) => (r = () => res(undefined))));
        const h = startGenerator(
          { kind, port: srv.port, count: p.hostilePerKind, rooms: setup.rooms, params: p },
          { core: o.genCore, script: 'hostile.mjs', onEvent: (m) => m.ev === 'ready' && r() },
        );
        void h.result.then(() => r());
        hostiles.push({ ...h, kind });
      }
      await within(Promise.all(readies), 20000, null);
    }
    // The baseline waits as long, so both runs have the same shape.
    await sleep(p.rampS * 1000);
    const hostileCpu0 = hostiles.map((h) => cpuSeconds(/** @type {number} */ (h.pid)) ?? NaN);
    const go = performance.now();
    gen.send({ cmd: 'go' });
    const wellBehaved = await gen.result;
    const end = performance.now();
    const hostileCpuS = hostiles.reduce((a, h, i) => a + ((cpuSeconds(/** @type {number} */ (h.pid)) ?? NaN) - hostileCpu0[i]), 0);

    /** @type {Record<string, any> | null} */
    let tallies = null;
    if (hostile) {
      o.status(`${label}: collecting the hostile clients' tallies`);
      for (const h of hostiles) h.send({ cmd: 'finish' });
      const results = await Promise.all(hostiles.map((h) => within(h.result, 15000, { failed: 'no tally within 15 s' })));
      tallies = Object.fromEntries(hostiles.map((h, i) => [h.kind, results[i]]));
    }
    sampler.stop();
    const exit = srv.exit;
    const alive = exit === null;
    const stats = alive ? await serverStats(srv.port) : null;

    // CPU over the window, from the orchestrator's samples: they survive a crash.
    const from = win.open;
    const to = win.close ?? sampler.samples[sampler.samples.length - 1];
    const cpuS = to && from ? to.cpu - from.cpu : NaN;
    const wallS = to && from ? (to.t - from.t) / 1000 : NaN;
    const rss = sampler.samples.map((s) => s.rss);
    const cpuPerS = sampler.samples.slice(1).map((s, i) => round((100 * (s.cpu - sampler.samples[i].cpu)) / ((s.t - sampler.samples[i].t) / 1000), 0));
    return {
      hostileClients: hostile ? 4 * p.hostilePerKind : 0,
      server: {
        alive,
        exit: exit && { code: exit.code, signal: exit.signal, atS: round((exit.at - t0) / 1000, 1), afterGoS: round((exit.at - go) / 1000, 1) },
        rssStartMB: rss.length ? round(rss[0] / MB, 1) : null,
        rssAtGoMB: sampler.at(go) ? round(sampler.at(go).rss / MB, 1) : null,
        rssPeakMB: rss.length ? round(Math.max(...rss) / MB, 1) : null,
        rssLastMB: rss.length ? round(rss[rss.length - 1] / MB, 1) : null,
        // One sample a second over the whole run, server start to end (or death).
        rssSamplesMB: rss.map((v) => round(v / MB, 1)),
        cpuSamplesPct: cpuPerS,
        cpuPct: wallS > 0 ? round((100 * cpuS) / wallS, 1) : null,
        cpuS: Number.isFinite(cpuS) ? round(cpuS, 2) : null,
        stats,
        stderrTail: srv.stderrTail ? srv.stderrTail.slice(-2000) : undefined,
      },
      wellBehaved,
      // What each hostile kind met (null in the run without them).
      kinds: tallies,
      hostileCpuPct: hostile && end > go ? round((100 * hostileCpuS) / ((end - go) / 1000), 1) : null,
      runS: round((end - t0) / 1000, 1),
    };
  } finally {
    sampler.stop();
    for (const h of hostiles) h.kill();
    await srv.stop();
  }
}

/**
 * (H) Both runs, well-behaved only first; a run the harness could not carry out (the server did
 * not start, the generator failed) is `{ failed }` and the other run still happens.
 * @param {Record<string, number>} p
 * @param {{ serverCore: number | null, genCore: number | null, pinned: boolean, status: (text: string) => void }} o
 */
export async function soakJob(p, o) {
  const attempt = (/** @type {boolean} */ hostile) =>
    soakRun(p, o, hostile).catch((err) => /** @type {any} */ ({ failed: String(/** @type {Error} */ (err)?.message ?? err), hostileClients: hostile ? 4 * p.hostilePerKind : 0 }));
  const baseline = await attempt(false);
  const hostile = await attempt(true);
  const runs = [baseline, hostile].filter((r) => !r.failed);
  return {
    baseline,
    hostile,
    crashes: runs.filter((r) => !r.server.alive).length,
    runsMeasured: runs.length,
  };
}

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Keeps `npm run bench` working: every scenario runs for a moment with tiny counts against
// roomcast (SQLite) and the minimal ws baseline. Only structure is checked (numbers present,
// messages delivered, no errors), never speed: timings belong to the benchmark, not the tests.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVERS = ['roomcast', 'minimal'] as const;

interface Latency {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

interface ScenarioResult {
  failed?: string;
  na?: string;
  errors?: number;
  errorSamples?: string[];
  closedUnexpectedly?: number;
  deliveries?: number;
  deliveriesPerS?: number;
  usPerDelivery?: number | null;
  serverCpuPct?: number;
  genCpuPct?: number;
  latency?: Latency | null;
  deliveredShare?: number | null;
  requested?: number;
  connected?: number;
  failedConns?: number;
  bytesPerConn?: number | null;
  rssAfterMB?: number;
  catchUpS?: number;
  received?: number;
  complete?: boolean;
  sustainablePerS?: number;
  trials?: Array<{ offeredPerS: number; deliveries: number; latency: Latency }>;
}

interface BenchRun {
  mode: string;
  machine: { nproc: number; node: string; cpuModel: string };
  params: Record<string, Record<string, number>>;
  results: Record<string, Record<string, ScenarioResult>>;
  ratios: Record<string, Record<string, number>>;
  targets: Array<{ id: string; target: string; measured: string; met: boolean | null }>;
}

function expectClean(r: ScenarioResult | undefined, what: string): ScenarioResult {
  expect(r, what).toBeDefined();
  const res = r as ScenarioResult;
  expect(res.failed, `${what} failed`).toBeUndefined();
  expect(res.errors ?? 0, `${what}: ${(res.errorSamples ?? []).join('; ')}`).toBe(0);
  expect(res.closedUnexpectedly ?? 0, `${what}: connections closed`).toBe(0);
  return res;
}

describe('npm run bench (smoke)', () => {
  it('runs every scenario briefly against roomcast and a baseline', { timeout: 120_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bench/run.mjs', '--smoke', '--json', '--servers', SERVERS.join(',')],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 110_000 },
    );
    const run = JSON.parse(stdout) as BenchRun;
    expect(run.mode).toBe('smoke');
    expect(run.machine.nproc).toBeGreaterThan(0);

    for (const server of SERVERS) {
      for (const sc of ['A', 'B', 'C'] as const) {
        const r = expectClean(run.results[sc]?.[server], `${sc} on ${server}`);
        expect(r.deliveries).toBeGreaterThan(0);
        expect(typeof r.deliveriesPerS).toBe('number');
        expect(typeof r.serverCpuPct).toBe('number');
        expect(typeof r.genCpuPct).toBe('number');
        expect(r.latency?.count).toBeGreaterThan(0);
        expect(typeof r.latency?.p99).toBe('number');
      }
      for (const sc of ['B', 'C'] as const) expect(run.results[sc]?.[server]?.deliveredShare).toBeGreaterThan(0);

      const d = expectClean(run.results.D?.[server], `D on ${server}`);
      expect(d.connected).toBe(d.requested);
      expect(d.failedConns).toBe(0);
      expect(typeof d.bytesPerConn).toBe('number');
      expect(d.rssAfterMB).toBeGreaterThan(0);

      const f = expectClean(run.results.F?.[server], `F on ${server}`);
      expect(f.trials?.length).toBeGreaterThan(0);
      for (const t of f.trials ?? []) expect(t.deliveries).toBeGreaterThan(0);
      expect(typeof f.sustainablePerS).toBe('number');
    }

    // Catch-up: roomcast replays from its store; the minimal server has no history.
    const e = expectClean(run.results.E?.roomcast, 'E on roomcast');
    expect(e.complete).toBe(true);
    expect(e.received).toBe(run.params.E?.missed);
    expect(typeof e.catchUpS).toBe('number');
    expect(run.results.E?.minimal?.na).toBeTruthy();

    expect(typeof run.ratios.A?.['roomcast/minimal']).toBe('number');
    expect(run.targets.map((t) => t.id)).toEqual(expect.arrayContaining(['A', 'B', 'C', 'D', 'E', 'F']));
  });

  // G starts its own PostgreSQL and Redis (like the cluster tests, it needs Debian's packages).
  it('runs the cluster scenario G briefly on one and two roomcast nodes', { timeout: 90_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bench/run.mjs', '--smoke', '--only', 'G', '--servers', 'roomcast', '--json'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 80_000 },
    );
    const run = JSON.parse(stdout) as BenchRun;
    expect(run.mode).toBe('smoke');
    const g = expectClean(run.results.G?.roomcast as ScenarioResult | undefined, 'G on roomcast') as ClusterResult;
    expect(g.na, 'G needs redis-server and PostgreSQL 15').toBeUndefined();

    const checkWindow = (w: ClusterWindow | undefined, nodes: number, what: string) => {
      expect(w, what).toBeDefined();
      const m = w as ClusterWindow;
      expect(m.deliveries, what).toBeGreaterThan(0);
      expect(typeof m.deliveriesPerS).toBe('number');
      expect(typeof m.serverCpuS).toBe('number');
      expect(typeof m.genCpuPct).toBe('number');
      expect(m.latency?.count, what).toBeGreaterThan(0);
      expect(typeof m.services?.redis?.cpuS).toBe('number');
      expect(typeof m.services?.postgres?.cpuS).toBe('number');
      expect(m.nodes).toHaveLength(nodes);
      for (const [i, n] of m.nodes.entries()) {
        expect(n.deliveries, `${what}, node ${i + 1}`).toBeGreaterThan(0);
        expect(typeof n.cpuS).toBe('number');
        expect(n.latency?.count, `${what}, node ${i + 1}`).toBeGreaterThan(0);
      }
    };
    checkWindow(g.oneNode, 1, '1 node');
    checkWindow(g.twoNodes, 2, '2 nodes');
    expect(g.twoNodes?.drained).toBe(true);
    checkWindow(g.hop, 2, 'Redis hop');
    for (const n of g.hop?.nodes ?? []) expect(n.deliveredShare).toBeGreaterThan(0);
    expect(typeof g.hop?.extraMs?.p50).toBe('number');
    expect(typeof g.ratios?.deliveriesPerS).toBe('number');
  });

  // H, the hostile soak, for a few seconds with a handful of clients of each hostile kind. Only
  // structure: both runs measured, their numbers present, the server alive at the end. Never a
  // threshold on latency or RSS (the benchmark reports those; hostile load makes them swing).
  it('runs the hostile soak H briefly, without and with hostile clients', { timeout: 90_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bench/run.mjs', '--smoke', '--only', 'H', '--servers', 'roomcast', '--json'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 80_000 },
    );
    const run = JSON.parse(stdout) as BenchRun;
    expect(run.mode).toBe('smoke');
    const h = run.results.H?.roomcast as SoakResult | undefined;
    expect(h, 'H on roomcast').toBeDefined();
    const soak = h as SoakResult;
    expect(soak.failed, soak.failed).toBeUndefined();

    for (const [what, r] of [
      ['well-behaved only', soak.baseline],
      ['with hostile clients', soak.hostile],
    ] as const) {
      expect(r.failed, `${what}: ${r.failed}`).toBeUndefined();
      expect(r.server.alive, `${what}: the server died: ${r.server.stderrTail ?? ''}`).toBe(true);
      expect(r.server.exit).toBeNull();
      expect(r.server.rssPeakMB, what).toBeGreaterThan(0);
      expect(typeof r.server.rssLastMB).toBe('number');
      expect(r.server.rssSamplesMB.length, what).toBeGreaterThan(0);
      expect(typeof r.server.cpuPct).toBe('number');
      const w = r.wellBehaved;
      expect(w.failed, `${what}: ${w.failed}`).toBeUndefined();
      expect(w.connected, what).toBe(w.requested);
      expect(w.deliveries, what).toBeGreaterThan(0);
      expect(w.latency?.count, what).toBeGreaterThan(0);
      expect(typeof w.latency?.p99).toBe('number');
      expect(typeof w.closedUnexpectedly).toBe('number');
    }
    // Without hostile clients nothing may go wrong: that run is the harness's own check.
    expectClean(soak.baseline.wellBehaved, 'H, well-behaved only');
    expect(soak.baseline.kinds).toBeNull();
    expect(soak.hostile.hostileClients).toBeGreaterThan(0);
    for (const kind of ['neverRead', 'flood', 'idle', 'meta']) {
      const t = soak.hostile.kinds?.[kind];
      expect(t, kind).toBeDefined();
      expect(t?.failed, `${kind}: ${t?.failed}`).toBeUndefined();
      expect(t?.attempts, kind).toBeGreaterThan(0);
      expect(t?.opened, kind).toBeGreaterThan(0);
      expect(typeof t?.closes).toBe('object');
      expect(typeof t?.framesSent).toBe('number');
    }
    expect(soak.crashes).toBe(0);
    expect(run.targets.filter((t) => t.id === 'H')).toHaveLength(4);
  });
});

interface SoakRun {
  failed?: string;
  hostileClients: number;
  server: {
    alive: boolean;
    exit: { code: number | null; signal: string | null } | null;
    rssPeakMB: number | null;
    rssLastMB: number | null;
    rssSamplesMB: number[];
    cpuPct: number | null;
    stderrTail?: string;
  };
  wellBehaved: ScenarioResult & { requested: number; connected: number; closeCodes: Record<string, number> };
  kinds: Record<string, { failed?: string; attempts: number; opened: number; closes: Record<string, number>; framesSent: number }> | null;
}

interface SoakResult extends ScenarioResult {
  baseline: SoakRun;
  hostile: SoakRun;
  crashes: number;
}

interface ClusterWindow {
  deliveries: number;
  deliveriesPerS: number;
  serverCpuS: number;
  genCpuPct: number;
  latency: Latency | null;
  drained?: boolean;
  services?: Record<string, { cpuS: number }>;
  nodes: Array<{ deliveries: number; cpuS: number; latency: Latency | null; deliveredShare?: number | null }>;
  extraMs?: { p50: number | null; p99: number | null };
}

interface ClusterResult extends ScenarioResult {
  oneNode?: ClusterWindow;
  twoNodes?: ClusterWindow;
  hop?: ClusterWindow;
  ratios?: { deliveriesPerS: number | null; usPerDelivery: number | null };
}

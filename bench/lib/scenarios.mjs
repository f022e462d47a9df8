// Scenario parameters for each mode. quick (the default) finishes all servers and scenarios in
// under two minutes; full runs the sizes for longer; smoke is for the test suite only
// (tiny counts, just enough to prove every scenario still runs).

const n = (/** @type {number} */ v) => v.toLocaleString('en-US');

/** @type {Record<string, { title: (p: Record<string, number>) => string }>} */
export const SCENARIO_INFO = {
  A: { title: (p) => `A · fan-out: 1 room × ${n(p.subscribers)} subscribers, one publisher with ${p.inflight} messages in flight` },
  B: { title: (p) => `B · many rooms: ${n(p.conns)} connections in ${n(p.conns / p.roomSize)} rooms of ${p.roomSize}, ${p.ratePerConn} msg/s each` },
  C: { title: (p) => `C · latency: ${n(p.subscribers)} subscribers, ${p.ratePerS} msg/s` },
  D: { title: (p) => `D · memory: ${n(p.conns)} idle connections joined to rooms of ${p.roomSize}` },
  D19: { title: (p) => `D19 · ${n(p.conns)} idle connections in one process (roomcast only)` },
  E: { title: (p) => `E · catch-up: a member who missed ${n(p.missed)} messages reconnects` },
  F: { title: (p) => `F · capacity: highest load of B's shape with p99 < ${p.p99LimitMs} ms and ≥ 99% delivered` },
  G: {
    title: (p) =>
      `G · cluster: fan-out over 1 vs 2 nodes on Redis + PostgreSQL (1 room × ${n(p.subscribers)} subscribers, ${p.inflight} in flight), and the Redis hop (${p.hopSubsPerNode} + ${p.hopSubsPerNode} subscribers, ${p.hopRatePerS} msg/s)`,
  },
  H: {
    title: (p) =>
      `H · hostile soak: ${n(p.rooms * p.roomSize)} well-behaved clients in ${n(p.rooms)} rooms of ${p.roomSize} (a message every ${p.sendEveryS} s each), without and with ${n(4 * p.hostilePerKind)} hostile clients, ${n(p.durationS)} s per run (roomcast, default --rate and --send-buffer)`,
  },
};

/**
 * H, the hostile soak: the same well-behaved load twice on a fresh roomcast each time, once
 * alone and once beside `hostilePerKind` clients of each hostile kind (bench/lib/hostile.mjs).
 * `rampS`: how long the hostile clients get to connect before the warm-up starts (the baseline
 * waits as long, so both runs have the same shape); `unreadEveryMs`: how often a never-reading
 * client pings and asks for history; `metaEveryMs`: the pause between two oversized frames of
 * one client; `reconnectMs`: how long a hostile client waits before it comes back.
 */
const SOAK = { rooms: 60, roomSize: 30, sendEveryS: 2.5, hostilePerKind: 50, rampS: 2, unreadEveryMs: 1000, metaEveryMs: 250, reconnectMs: 250 };

/** @type {Record<string, Record<string, Record<string, number>>>} */
export const MODES = {
  // Quick mode shares connections: A runs on C's 500 subscribers (right after C), and D
  // measures B's 2,000 connections before B's load starts; F continues on them after B.
  quick: {
    A: { subscribers: 500, inflight: 16, warmupS: 0.4, durationS: 1.5 },
    B: { conns: 2000, roomSize: 10, ratePerConn: 2, warmupS: 0.4, durationS: 1.5 },
    C: { subscribers: 500, ratePerS: 40, warmupS: 0.4, durationS: 1.5 },
    D: { conns: 2000, roomSize: 10, settleS: 0.7 },
    D19: { conns: 19000, roomSize: 10, settleS: 2 },
    E: { missed: 10000 },
    F: { conns: 2000, roomSize: 10, startRate: 20000, factor: 1.5, maxSteps: 3, trialS: 0.8, trialWarmS: 0.3, refineSteps: 0, p99LimitMs: 50 },
    G: { subscribers: 500, inflight: 16, warmupS: 1, durationS: 2, hopSubsPerNode: 4, hopRatePerS: 200, hopWarmupS: 0.5, hopDurationS: 3 },
    H: { ...SOAK, warmupS: 3, durationS: 30 },
  },
  full: {
    A: { subscribers: 1000, inflight: 16, warmupS: 2, durationS: 10 },
    B: { conns: 2000, roomSize: 10, ratePerConn: 2, warmupS: 3, durationS: 15 },
    C: { subscribers: 500, ratePerS: 40, warmupS: 2, durationS: 15 },
    D: { conns: 10000, roomSize: 10, settleS: 10 },
    D19: { conns: 19000, roomSize: 10, settleS: 3 },
    E: { missed: 10000 },
    F: { conns: 2000, roomSize: 10, startRate: 20000, factor: 1.3, maxSteps: 8, trialS: 3, trialWarmS: 1, refineSteps: 2, p99LimitMs: 50 },
    G: { subscribers: 1000, inflight: 16, warmupS: 2, durationS: 10, hopSubsPerNode: 10, hopRatePerS: 200, hopWarmupS: 2, hopDurationS: 10 },
    H: { ...SOAK, warmupS: 10, durationS: 300 },
  },
  smoke: {
    A: { subscribers: 20, inflight: 4, warmupS: 0.1, durationS: 0.4 },
    B: { conns: 40, roomSize: 10, ratePerConn: 2, warmupS: 0.1, durationS: 0.5 },
    C: { subscribers: 20, ratePerS: 40, warmupS: 0.1, durationS: 0.4 },
    D: { conns: 40, roomSize: 10, settleS: 0.1 },
    D19: { conns: 100, roomSize: 10, settleS: 0.1 },
    E: { missed: 200 },
    F: { conns: 40, roomSize: 10, startRate: 200, factor: 2, maxSteps: 2, trialS: 0.3, trialWarmS: 0.1, refineSteps: 0, p99LimitMs: 50 },
    G: { subscribers: 20, inflight: 4, warmupS: 0.1, durationS: 0.4, hopSubsPerNode: 2, hopRatePerS: 100, hopWarmupS: 0.1, hopDurationS: 0.5 },
    H: { ...SOAK, rooms: 4, roomSize: 5, sendEveryS: 0.5, hostilePerKind: 2, rampS: 0.5, warmupS: 0.5, durationS: 3 },
  },
};

/**
 * Scenarios run by default in each mode (D19 needs the full mode's time; G, the cluster, starts
 * PostgreSQL and Redis and runs in full mode or with --only G; H, the hostile soak, takes
 * 2 × 5 minutes in full mode and about 2 minutes in quick mode with --only H).
 */
export const DEFAULT_SCENARIOS = {
  quick: ['A', 'B', 'C', 'D', 'E', 'F'],
  full: ['A', 'B', 'C', 'D', 'D19', 'E', 'F', 'G', 'H'],
  smoke: ['A', 'B', 'C', 'D', 'E', 'F'],
};

/** Connections one generator process holds at most (each process may open 20,000 files). */
export const MAX_CONNS_PER_GENERATOR = 15000;

/** H's hostile kinds: each runs in a process of its own (bench/hostile.mjs), `hostilePerKind` clients. */
export const HOSTILE_KINDS = /** @type {const} */ (['neverRead', 'flood', 'idle', 'meta']);

// Turning results into tables, ratios, the issue's targets, and an SVG chart.
import { SCENARIO_INFO } from './scenarios.mjs';
import { SERVERS } from './servers.mjs';

/** @typedef {Record<string, Record<string, any>>} Results  scenario → server → result */

const ROOMCASTS = ['roomcast', 'roomcast-eph'];

const fmt = {
  int: (/** @type {any} */ v) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—'),
  num: (/** @type {any} */ v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—'),
  ms: (/** @type {any} */ v) => (typeof v !== 'number' ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)),
  pct: (/** @type {any} */ v) => (typeof v === 'number' ? `${v.toFixed(0)}%` : '—'),
  kb: (/** @type {any} */ v) => (typeof v === 'number' ? (v / 1000).toFixed(1) : '—'),
  x: (/** @type {any} */ v) => (typeof v === 'number' && Number.isFinite(v) ? `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×` : '—'),
};

/** @typedef {[string, (r: any) => string]} Column */
/** @type {Column[]} */
const LATENCY_AND_CPU = [
  ['p50 ms', (r) => fmt.ms(r.latency?.p50)],
  ['p99 ms', (r) => fmt.ms(r.latency?.p99)],
  ['max ms', (r) => fmt.ms(r.latency?.max)],
  ['server CPU', (r) => fmt.pct(r.serverCpuPct)],
  ['µs/delivery', (r) => fmt.num(r.usPerDelivery, 2)],
];
/** @type {Column[]} */
const LOAD = [
  ['gen CPU', (r) => fmt.pct(r.genCpuPct)],
  ['other load c0/c1', (r) => (Array.isArray(r.otherCpuPct) ? r.otherCpuPct.map((v) => (v === null ? '?' : v.toFixed(0))).join('/') + '%' : '—')],
];
/** @type {Column[]} */
const DELIVERED_AND_LOAD = [
  ['delivered', (r) => (typeof r.deliveredShare === 'number' ? `${(100 * r.deliveredShare).toFixed(1)}%` : '—')],
  ...LOAD,
];

/**
 * Per scenario: the columns of its table, and the headline metric (for ratios and the chart).
 * @type {Record<string, { cols: Array<[string, (r: any) => string]>, metric: { name: string, get: (r: any) => number | null | undefined, higherIsBetter: boolean, unit: string } }>}
 */
const TABLES = {
  A: {
    cols: [
      ['deliveries/s', (r) => fmt.int(r.deliveriesPerS)],
      ...LATENCY_AND_CPU,
      ...LOAD,
      ['setup s', (r) => fmt.num(r.setupS, 1)],
    ],
    metric: { name: 'deliveries/s', get: (r) => r.deliveriesPerS, higherIsBetter: true, unit: '/s' },
  },
  B: {
    cols: [
      ['deliveries/s', (r) => fmt.int(r.deliveriesPerS)],
      ['offered', (r) => fmt.int(r.offeredPerS)],
      ...LATENCY_AND_CPU,
      ...DELIVERED_AND_LOAD,
    ],
    metric: { name: 'server CPU µs per delivery', get: (r) => r.usPerDelivery, higherIsBetter: false, unit: 'µs' },
  },
  C: {
    cols: [
      ['deliveries/s', (r) => fmt.int(r.deliveriesPerS)],
      ...LATENCY_AND_CPU,
      ...DELIVERED_AND_LOAD,
    ],
    metric: { name: 'p99 latency', get: (r) => r.latency?.p99, higherIsBetter: false, unit: 'ms' },
  },
  D: {
    cols: [
      ['connections', (r) => fmt.int(r.connected)],
      ['failed', (r) => fmt.int(r.failedConns)],
      ['RSS before MB', (r) => fmt.num(r.rssBeforeMB, 1)],
      ['RSS after MB', (r) => fmt.num(r.rssAfterMB, 1)],
      ['kB/connection', (r) => fmt.kb(r.bytesPerConn)],
      ['setup s', (r) => fmt.num(r.setupS, 1)],
      ['joins/s', (r) => fmt.int(r.connectPerS)],
      ['server CPU ms/join', (r) => fmt.num(r.setupCpuMsPerConn, 2)],
    ],
    metric: { name: 'kB per idle joined connection', get: (r) => (typeof r.bytesPerConn === 'number' ? r.bytesPerConn / 1000 : null), higherIsBetter: false, unit: 'kB' },
  },
  E: {
    cols: [
      ['catch-up s', (r) => fmt.num(r.catchUpS, 3)],
      ['messages', (r) => fmt.int(r.received)],
      ['msgs/s', (r) => fmt.int(r.deliveriesPerS)],
      ['complete', (r) => (r.complete ? 'yes' : 'NO')],
      ['publish msgs/s', (r) => fmt.int(r.publishPerS)],
    ],
    metric: { name: 'seconds to receive 10,000 missed messages', get: (r) => r.catchUpS, higherIsBetter: false, unit: 's' },
  },
  F: {
    cols: [
      ['sustainable deliveries/s', (r) => (r.limitedBy === 'generator' || r.limitedBy === 'not reached' ? '≥ ' : '') + fmt.int(r.sustainablePerS)],
      ['p99 ms there', (r) => fmt.ms(r.latency?.p99)],
      ['server CPU', (r) => fmt.pct(r.serverCpuPct)],
      ['µs/delivery', (r) => fmt.num(r.usPerDelivery, 2)],
      ['first failing', (r) => fmt.int(r.firstFailPerS)],
      ['gen CPU', (r) => fmt.pct(r.genCpuPct)],
      ['trials', (r) => String(r.trials?.length ?? '—')],
    ],
    metric: { name: 'sustainable deliveries/s (p99 < 50 ms)', get: (r) => r.sustainablePerS, higherIsBetter: true, unit: '/s' },
  },
};
TABLES.D19 = TABLES.D;

const ok = (/** @type {any} */ r) => r && !r.failed && !r.na;

/** Ratio roomcast-variant / baseline of a scenario's headline metric. */
function ratio(/** @type {Results} */ results, /** @type {string} */ sc, /** @type {string} */ a, /** @type {string} */ b) {
  const t = TABLES[sc];
  const ra = results[sc]?.[a];
  const rb = results[sc]?.[b];
  if (!t || !ok(ra) || !ok(rb)) return null;
  const va = t.metric.get(ra);
  const vb = t.metric.get(rb);
  if (typeof va !== 'number' || typeof vb !== 'number' || vb === 0) return null;
  return va / vb;
}

export function ratios(/** @type {Results} */ results) {
  /** @type {Record<string, Record<string, number | null>>} */
  const out = {};
  for (const sc of Object.keys(results)) {
    if (!TABLES[sc]) continue;
    out[sc] = {};
    for (const rc of ROOMCASTS) {
      for (const base of ['socketio', 'minimal', 'tutorial']) {
        const v = ratio(results, sc, rc, base);
        if (v !== null) out[sc][`${rc}/${base}`] = Math.round(v * 1000) / 1000;
      }
    }
  }
  return out;
}

/**
 * The issue's targets, for roomcast with persistence on, each met/missed with by how much.
 * @returns {Array<{ id: string, target: string, measured: string, met: boolean | null }>}
 */
export function targets(/** @type {Results} */ results) {
  const rc = (/** @type {string} */ sc) => results[sc]?.roomcast;
  const base = (/** @type {string} */ sc, /** @type {string} */ b) => results[sc]?.[b];
  /** @type {Array<{ id: string, target: string, measured: string, met: boolean | null }>} */
  const out = [];
  const add = (/** @type {string} */ id, /** @type {string} */ target, /** @type {number | null} */ value, /** @type {number} */ limit, /** @type {'>=' | '<='} */ dir, /** @type {(v: number) => string} */ show) => {
    if (value === null || !Number.isFinite(value)) {
      out.push({ id, target, measured: 'not measured', met: null });
      return;
    }
    const met = dir === '>=' ? value >= limit : value <= limit;
    const by = dir === '>=' ? limit / value : value / limit;
    out.push({ id, target, measured: `${show(value)}${met ? '' : ` — missed by ${by.toFixed(2)}×`}`, met });
  };
  const num = (/** @type {any} */ v) => (typeof v === 'number' ? v : null);
  const div = (/** @type {any} */ a, /** @type {any} */ b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
  const a = ok(rc('A')) && ok(base('A', 'socketio')) ? div(rc('A').deliveriesPerS, base('A', 'socketio').deliveriesPerS) : null;
  add('A', 'fan-out deliveries/s ≥ 5× Socket.IO', a, 5, '>=', (v) => `${v.toFixed(2)}× Socket.IO`);
  const b1 = ok(rc('B')) && ok(base('B', 'socketio')) ? div(rc('B').usPerDelivery, base('B', 'socketio').usPerDelivery) : null;
  add('B', 'many rooms: CPU/delivery ≤ 0.7× Socket.IO', b1, 0.7, '<=', (v) => `${v.toFixed(2)}× Socket.IO (${fmt.num(rc('B').usPerDelivery, 1)} vs ${fmt.num(base('B', 'socketio').usPerDelivery, 1)} µs)`);
  add('B', 'many rooms: p99 ≤ 10 ms', ok(rc('B')) ? num(rc('B').latency?.p99) : null, 10, '<=', (v) => `${fmt.ms(v)} ms`);
  const c = ok(rc('C')) && ok(base('C', 'minimal')) ? div(rc('C').latency?.p99, base('C', 'minimal').latency?.p99) : null;
  add('C', 'latency: p99 ≤ 1.2× minimal', c, 1.2, '<=', (v) => `${v.toFixed(2)}× minimal (${fmt.ms(rc('C').latency?.p99)} vs ${fmt.ms(base('C', 'minimal').latency?.p99)} ms)`);
  add('D', 'memory: ≤ 10 kB per idle joined connection', ok(rc('D')) ? num(rc('D').bytesPerConn) : null, 10000, '<=', (v) => `${(v / 1000).toFixed(1)} kB (at ${fmt.int(rc('D').connected)} connections)`);
  const d19 = rc('D19');
  if (ok(d19)) {
    const all = d19.connected >= d19.requested;
    out.push({ id: 'D', target: `${fmt.int(d19.requested)} connections in one process`, measured: `${fmt.int(d19.connected)} connected, ${fmt.int(d19.failedConns)} failed, ${fmt.int(d19.stillOpen)} still open after ${d19.setupS} s`, met: all && d19.failedConns === 0 && d19.stillOpen === d19.connected });
  } else out.push({ id: 'D', target: '19,000 connections in one process', measured: 'not measured (full mode only)', met: null });
  add('E', 'catch-up: 10,000 missed messages in < 1 s', ok(rc('E')) && rc('E').complete && rc('E').received >= 10000 ? num(rc('E').catchUpS) : null, 1, '<=', (v) => `${v.toFixed(3)} s`);
  const f = ok(rc('F')) && ok(base('F', 'socketio')) ? div(rc('F').sustainablePerS, base('F', 'socketio').sustainablePerS) : null;
  add('F', 'capacity ≥ 2× Socket.IO', f, 2, '>=', (v) => `${v.toFixed(2)}× Socket.IO (${fmt.int(rc('F').sustainablePerS)} vs ${fmt.int(base('F', 'socketio').sustainablePerS)}/s)`);
  out.push(...soakTargets(rc('H')));
  return out;
}

/** H's verdicts (issue "One request must never kill the server"): crashes, closes, RSS, p99. */
function soakTargets(/** @type {any} */ h) {
  const T = {
    crash: '0 crashes (the server alive after both runs)',
    closed: '0 well-behaved clients closed',
    rss: 'RSS bounded: peak reported',
    p99: 'well-behaved p99 beside the run without hostile clients',
  };
  if (!ok(h)) {
    const why = h?.failed ? `FAILED: ${String(h.failed).slice(0, 60)}` : 'not measured (full mode or --only H)';
    return Object.values(T).map((target) => ({ id: 'H', target, measured: why, met: null }));
  }
  const { baseline: b, hostile: x } = h;
  const good = (/** @type {any} */ r) => r && !r.failed;
  const out = [];
  const died = [b, x].filter((r) => good(r) && !r.server.alive);
  const crash = died.map((r) => `crashed ${r.hostileClients ? 'with' : 'without'} hostile clients ${crashText(r.server.exit)}`).join('; ');
  out.push({
    id: 'H',
    target: T.crash,
    measured: h.runsMeasured < 2 ? `${crash ? `${crash}; ` : ''}only ${h.runsMeasured} of 2 runs measured` : crash || 'alive after both runs',
    met: died.length > 0 ? false : h.runsMeasured === 2 ? true : null,
  });
  const closed = (/** @type {any} */ r) => (good(r) && good(r.wellBehaved) ? r.wellBehaved.closedUnexpectedly : null);
  const cx = closed(x);
  const cb = closed(b);
  out.push({
    id: 'H',
    target: T.closed,
    measured:
      cx === null ? 'not measured' : `${fmt.int(cx)} of ${fmt.int(x.wellBehaved.connected)} with hostile clients${codesText(x.wellBehaved.closeCodes)}; ${cb === null ? '—' : fmt.int(cb)} without`,
    met: cx === null ? null : cx === 0 && (cb ?? 0) === 0,
  });
  out.push({
    id: 'H',
    target: T.rss,
    measured: good(x)
      ? `peak ${fmt.num(x.server.rssPeakMB, 1)} MB with hostile clients, last ${fmt.num(x.server.rssLastMB, 1)} MB; without: peak ${good(b) ? fmt.num(b.server.rssPeakMB, 1) : '—'} MB`
      : 'not measured',
    met: null,
  });
  const lat = (/** @type {any} */ r) => (good(r) && good(r.wellBehaved) ? r.wellBehaved.latency : null);
  out.push({
    id: 'H',
    target: T.p99,
    measured: lat(x) || lat(b) ? `p99 ${fmt.ms(lat(x)?.p99)} ms with hostile clients, ${fmt.ms(lat(b)?.p99)} ms without (p50 ${fmt.ms(lat(x)?.p50)} / ${fmt.ms(lat(b)?.p50)} ms)` : 'not measured',
    met: null,
  });
  return out;
}

/** "after 12.3 s (signal SIGSEGV)" */
function crashText(/** @type {any} */ exit) {
  if (!exit) return '';
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return `${exit.afterGoS >= 0 ? `${exit.afterGoS} s into the load` : `${exit.atS} s after start, while connecting`} (${how})`;
}

/** " (1013 ×4, none ×2)" from counts by close code; "" when empty. */
function codesText(/** @type {Record<string, number> | undefined} */ codes) {
  const e = Object.entries(codes ?? {}).sort((a, b) => b[1] - a[1]);
  return e.length ? ` (${e.map(([k, v]) => `${k === 'none' ? 'no close frame' : k} ×${fmt.int(v)}`).join(', ')})` : '';
}

/** Markdown-ish table (pipes), readable in a terminal and pasteable into docs. */
function table(/** @type {string[]} */ head, /** @type {string[][]} */ rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Columns of numbers are right-aligned, columns of words left-aligned.
  const numeric = head.map((_, i) => i > 0 && rows.some((r) => /^(≥ )?[-\d]/.test(r[i])) && rows.every((r) => /^((≥ )?[-\d.,/]+( ?[%×a-zµ/]*)?|—|)$/.test(r[i])));
  const line = (/** @type {string[]} */ cells) => `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (numeric[i] ? '-' : ':') + '-'.repeat(w) + (numeric[i] ? ':' : '-')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** All tables, ratio lines and targets as text. */
export function formatReport(/** @type {{ results: Results, servers: string[], params?: Record<string, any>, machine?: any, mode?: string }} */ run) {
  const { results, servers } = run;
  const out = [];
  const rs = ratios(results);
  for (const sc of Object.keys(SCENARIO_INFO)) {
    if (sc === 'G') {
      if (results.G) out.push(...formatCluster(run));
      continue;
    }
    if (sc === 'H') {
      if (results.H) out.push(...formatSoak(run));
      continue;
    }
    const t = TABLES[sc];
    const byServer = results[sc];
    if (!t || !byServer) continue;
    out.push(`### ${SCENARIO_INFO[sc].title(run.params?.[sc] ?? {})}`, '');
    const rows = [];
    for (const s of servers) {
      const r = byServer[s];
      if (!r) continue;
      const label = SERVERS[s]?.label ?? s;
      if (r.na) rows.push([label, ...t.cols.map((_, i) => (i === 0 ? `n/a: ${r.na}` : ''))]);
      else if (r.failed) rows.push([label, ...t.cols.map((_, i) => (i === 0 ? `FAILED: ${String(r.failed).slice(0, 60)}` : ''))]);
      else rows.push([label, ...t.cols.map(([, f]) => f(r))]);
    }
    out.push(table(['server', ...t.cols.map(([h]) => h)], rows), '');
    const rr = rs[sc] ?? {};
    const parts = Object.entries(rr)
      .filter(([k]) => !k.endsWith('/tutorial'))
      .map(([k, v]) => `${k.replace('socketio', 'Socket.IO')} ${fmt.x(v)}`);
    if (parts.length > 0) out.push(`ratios (${t.metric.name}, ${t.metric.higherIsBetter ? 'higher' : 'lower'} is better): ${parts.join(' · ')}`, '');
    const notes = [];
    for (const s of servers) {
      const r = byServer[s];
      if (!ok(r)) continue;
      if ((r.genCpuPct ?? 0) > 90 && (r.serverCpuPct ?? 0) < 90) {
        notes.push(`${SERVERS[s]?.label ?? s}: generator CPU ${fmt.pct(r.genCpuPct)} with the server at ${fmt.pct(r.serverCpuPct)} — the generator limited this run`);
      }
      if (Array.isArray(r.otherCpuPct) && Math.max(...r.otherCpuPct.map((v) => v ?? 0)) > 15) {
        notes.push(`${SERVERS[s]?.label ?? s}: other processes used ${r.otherCpuPct.map((v) => fmt.pct(v)).join(' / ')} of cores 0 / 1 during the window${r.attempts > 1 ? ` (still, after ${r.attempts} attempts)` : ''}: disturbed`);
      }
      if (sc === 'F' && r.limitedBy === 'generator') notes.push(`${SERVERS[s]?.label ?? s}: the first failing trial had the generator saturated, not the server: its capacity is higher`);
      if (r.errors > 0) notes.push(`${SERVERS[s]?.label ?? s}: ${r.errors} errors (${(r.errorSamples ?? []).join('; ').slice(0, 200)})`);
    }
    if (notes.length > 0) out.push(...notes.map((n) => `note: ${n}`), '');
  }
  const ts = targets(results);
  if (results.A || results.B || results.C || results.D || results.E || results.F || results.H) {
    out.push('### Targets (roomcast, persistence on)', '');
    out.push(table(['', 'target', 'measured', 'met'], ts.map((t) => [t.id, t.target, t.measured, t.met === null ? '—' : t.met ? 'yes' : 'NO'])), '');
  }
  return out.join('\n');
}

// ---- G: cluster ------------------------------------------------------------------------------

const otherLoad = (/** @type {any} */ r) => (Array.isArray(r?.otherCpuPct) ? r.otherCpuPct.map((/** @type {number | null} */ v) => (v === null ? '?' : v.toFixed(0))).join('/') + '%' : '—');

/** Scenario G: its own tables (rows are runs and nodes, not servers), with what they measure. */
function formatCluster(/** @type {{ results: Results, params?: Record<string, any> }} */ run) {
  const p = run.params?.G ?? {};
  const r = run.results.G?.roomcast;
  const out = [`### ${SCENARIO_INFO.G.title(p)}`, ''];
  out.push(
    "What G measures: A's fan-out (one room, one publisher keeping a fixed number of messages in flight) on roomcast in",
    'cluster mode, PostgreSQL holding the messages and Redis carrying them between nodes; first on one node, then on two',
    'nodes with the subscribers split half and half and the publisher on node 1, each run on a fresh database. A message',
    'counts as done when the last subscriber on every node has it. Server CPU is summed over the roomcast node processes;',
    'Redis and PostgreSQL (all its backends) are measured apart. The Redis hop: in the two-node run, a second room with a',
    'few subscribers on each node and a publisher on node 1 at a low rate, so nothing queues; what node 2 subscribers',
    "wait longer than node 1's is what the hop adds to a message (publish to Redis, Redis, node 2), and node 2's CPU over",
    'the messages it received is what a node spends per message that reaches it from Redis. At that low rate each',
    'message is committed and woken up for on its own, and idle work (timers, presence leases) is shared by few messages,',
    'so CPU per message there is higher than in the fan-out runs, where commits are batched.',
    '',
  );
  if (!r) return [...out, '(not run: G runs roomcast only)', ''];
  if (r.na) return [...out, `n/a: ${r.na}`, ''];
  if (r.failed) return [...out, `FAILED: ${r.failed}`, ''];
  const one = r.oneNode;
  const two = r.twoNodes;
  const runRow = (/** @type {string} */ label, /** @type {any} */ m) => [
    label,
    fmt.int(m.deliveriesPerS),
    fmt.int(m.messagesPerS),
    fmt.ms(m.latency?.p50),
    fmt.ms(m.latency?.p99),
    fmt.ms(m.latency?.max),
    fmt.pct(m.serverCpuPct),
    fmt.num(m.usPerDelivery, 2),
    fmt.num(m.usPerMessage, 0),
    fmt.pct(m.services?.redis?.cpuPct),
    fmt.pct(m.services?.postgres?.cpuPct),
    fmt.pct(m.genCpuPct),
    otherLoad(m),
  ];
  const nodeRow = (/** @type {string} */ label, /** @type {any} */ n, /** @type {number} */ windowS) => [
    label,
    fmt.int(n.deliveriesPerS),
    fmt.int(n.messages / windowS),
    fmt.ms(n.latency?.p50),
    fmt.ms(n.latency?.p99),
    fmt.ms(n.latency?.max),
    fmt.pct(n.cpuPct),
    fmt.num(n.usPerDelivery, 2),
    fmt.num(n.usPerMessage, 0),
    '',
    '',
    '',
    '',
  ];
  const rows = [runRow('1 node (cluster mode)', one), runRow('2 nodes (sum)', two)];
  two.nodes.forEach((/** @type {any} */ n, /** @type {number} */ i) =>
    rows.push(nodeRow(`· node ${i + 1}: ${i === 0 ? "publisher's" : 'via Redis'}, ${fmt.int(n.subscribers)} subscribers`, n, two.windowS)),
  );
  out.push(
    table(['run', 'deliveries/s', 'messages/s', 'p50 ms', 'p99 ms', 'max ms', 'nodes CPU', 'µs/delivery', 'µs/message', 'Redis CPU', 'PG CPU', 'gen CPU', 'other load c0/c1'], rows),
    '',
  );
  out.push(
    `2 nodes / 1 node: deliveries/s ${fmt.x(r.ratios?.deliveriesPerS)}, nodes' CPU per delivery ${fmt.x(r.ratios?.usPerDelivery)} ` +
      '(both nodes share core 0, so this is what a second node and the hop cost, not how a cluster scales out)',
    '',
  );
  const h = r.hop;
  if (h) {
    const [n1, n2] = h.nodes;
    const hopRow = (/** @type {string} */ label, /** @type {any} */ n) => [
      label,
      fmt.int(n.messages),
      fmt.ms(n.latency?.p50),
      fmt.ms(n.latency?.p99),
      fmt.ms(n.latency?.max),
      fmt.ms(n.latency?.mean),
      typeof n.deliveredShare === 'number' ? `${(100 * n.deliveredShare).toFixed(1)}%` : '—',
      fmt.pct(n.cpuPct),
      fmt.num(n.usPerMessage, 0),
      fmt.num(n.usPerDelivery, 0),
    ];
    const d = (/** @type {any} */ v) => (typeof v === 'number' ? fmt.ms(v) : '—');
    out.push(`Redis hop (2 nodes, ${fmt.int(h.ratePerS)} msg/s, ${h.subscribersPerNode} subscribers on each node, ${fmt.num(h.windowS, 1)} s):`, '');
    out.push(
      table(
        ['subscribers', 'messages', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'delivered', 'node CPU', 'µs/message', 'µs/delivery'],
        [
          hopRow("on node 1 (the publisher's)", n1),
          hopRow('on node 2 (via Redis)', n2),
          ['extra via Redis (node 2 − node 1)', '', d(h.extraMs?.p50), d(h.extraMs?.p99), '', d(h.extraMs?.mean), '', '', '', ''],
        ],
      ),
      '',
    );
    const f2 = two.nodes[1];
    out.push(
      `Receiving node, CPU per message from Redis: ${fmt.num(n2.usPerMessage, 0)} µs with ${n2.subscribers} subscribers (hop run); ` +
        `${fmt.num(f2?.usPerMessage, 0)} µs with ${fmt.int(f2?.subscribers)} subscribers in the 2-node fan-out, i.e. ${fmt.num(f2?.usPerDelivery, 2)} µs per delivery ` +
        `(1 node: ${fmt.num(one.usPerDelivery, 2)} µs per delivery).`,
      `Redis CPU per message: ${fmt.num(h.services?.redis?.usPerMessage, 0)} µs at ${fmt.int(h.ratePerS)} msg/s, ${fmt.num(two.services?.redis?.usPerMessage, 0)} µs in the 2-node fan-out; ` +
        `PostgreSQL: ${fmt.num(h.services?.postgres?.usPerMessage, 0)} µs and ${fmt.num(two.services?.postgres?.usPerMessage, 0)} µs.`,
      "The latency differences are between the two nodes' distributions (p99 of node 2 minus p99 of node 1), not percentiles of per-message differences.",
      '',
    );
  }
  const notes = [
    r.pinning?.nodes?.startsWith('core')
      ? `pinning: both roomcast nodes on core 0 (they share it); the generator, Redis and PostgreSQL on core 1`
      : 'not pinned: nodes, generator, Redis and PostgreSQL share all cores',
    'PostgreSQL runs with fsync=off (its data is thrown away after the run); synchronous_commit stays on',
  ];
  for (const [label, m] of /** @type {Array<[string, any]>} */ ([
    ['1 node', one],
    ['2 nodes', two],
    ['Redis hop', h],
  ])) {
    if (!m) continue;
    if ((m.genCpuPct ?? 0) > 90 && (m.serverCpuPct ?? 0) < 90) notes.push(`${label}: generator CPU ${fmt.pct(m.genCpuPct)} with the nodes at ${fmt.pct(m.serverCpuPct)} — the generator limited this run`);
    if (Array.isArray(m.otherCpuPct) && Math.max(...m.otherCpuPct.map((/** @type {number | null} */ v) => v ?? 0)) > 15) {
      notes.push(`${label}: other processes used ${m.otherCpuPct.map((/** @type {any} */ v) => fmt.pct(v)).join(' / ')} of cores 0 / 1 during the window${m.attempts > 1 ? ` (still, after ${m.attempts} attempts)` : ''}: disturbed`);
    }
    if (m.drained === false) notes.push(`${label}: not every message reached the last subscriber of each node within 10 s after the window`);
  }
  if (r.errors > 0) notes.push(`${r.errors} errors (${(r.errorSamples ?? []).join('; ').slice(0, 200)})`);
  if (r.closedUnexpectedly > 0) notes.push(`${r.closedUnexpectedly} connections closed unexpectedly`);
  out.push(...notes.map((n) => `note: ${n}`), '');
  return out;
}

// ---- H: hostile soak -------------------------------------------------------------------------

const HOSTILE_LABELS = {
  neverRead: 'never read (paused; ping + history each interval)',
  flood: 'flood: junk JSON, 1-byte, random binary; protocol violations',
  idle: 'idle TCP: silent, half a head, a byte a second',
  meta: 'deep / wide meta, oversized text and frames',
};

/** "a ×3, b ×1" from counts, largest first. */
const counts = (/** @type {Record<string, number> | undefined} */ m) =>
  Object.entries(m ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ×${fmt.int(v)}`)
    .join(', ') || '—';

/** Scenario H: a row per run (server, well-behaved clients), then what the hostile clients met. */
function formatSoak(/** @type {{ results: Results, params?: Record<string, any> }} */ run) {
  const p = run.params?.H ?? {};
  const h = run.results.H?.roomcast;
  const out = [`### ${SCENARIO_INFO.H.title(p)}`, ''];
  out.push(
    'What H measures: the same well-behaved load twice, each time on a fresh roomcast (SQLite, default --rate and',
    '--send-buffer): alone, then beside hostile clients in processes of their own that come back whenever the server',
    'closes them. Well-behaved clients send a timestamped message at a steady pace and read everything; latency is',
    'from send to read over the window, and "closed" counts every close they did not ask for. RSS is sampled every',
    'second from /proc over the whole run (server start to end); server CPU is over the window. "alive" means the',
    'process was still running at the end; a crash ends the run early and the numbers are those measured until then.',
    '',
  );
  if (!h) return [...out, '(not run: H runs roomcast only)', ''];
  if (h.failed) return [...out, `FAILED: ${h.failed}`, ''];
  const good = (/** @type {any} */ r) => r && !r.failed;
  const runRow = (/** @type {string} */ label, /** @type {any} */ r) => {
    if (!good(r)) return [label, `FAILED: ${String(r?.failed).slice(0, 60)}`, ...Array(13).fill('')];
    const w = good(r.wellBehaved) ? r.wellBehaved : {};
    const srv = r.server;
    return [
      label,
      srv.alive ? 'alive' : `CRASHED ${crashText(srv.exit)}`,
      `${fmt.num(srv.rssAtGoMB, 0)} / ${fmt.num(srv.rssPeakMB, 0)} / ${fmt.num(srv.rssLastMB, 0)}`,
      fmt.pct(srv.cpuPct),
      fmt.int(w.deliveriesPerS),
      typeof w.deliveredShare === 'number' ? `${(100 * w.deliveredShare).toFixed(1)}%` : '—',
      fmt.ms(w.latency?.p50),
      fmt.ms(w.latency?.p99),
      fmt.ms(w.latency?.max),
      `${fmt.int(w.closedUnexpectedly)} / ${fmt.int(w.connected)}`,
      fmt.int(w.errors),
      fmt.pct(w.genCpuPct),
      r.hostileCpuPct === null ? '—' : fmt.pct(r.hostileCpuPct),
      otherLoad(w),
    ];
  };
  const hostileN = fmt.int(good(h.hostile) ? h.hostile.hostileClients : 4 * (p.hostilePerKind ?? 0));
  out.push(
    table(
      ['run', 'server', 'RSS MB at load / peak / last', 'server CPU', 'deliveries/s', 'delivered', 'p50 ms', 'p99 ms', 'max ms', 'closed / clients', 'errors', 'gen CPU', 'hostile CPU', 'other load c0/c1'],
      [runRow('well-behaved only', h.baseline), runRow(`with ${hostileN} hostile clients`, h.hostile)],
    ),
    '',
  );
  const x = h.hostile;
  if (good(x) && x.kinds) {
    const rows = Object.entries(x.kinds).map(([kind, t]) => {
      const label = HOSTILE_LABELS[/** @type {keyof typeof HOSTILE_LABELS} */ (kind)] ?? kind;
      if (!t || t.failed) return [label, `FAILED: ${String(t?.failed).slice(0, 60)}`, '', '', '', '', '', '', ''];
      return [
        label,
        fmt.int(t.slots),
        `${fmt.int(t.attempts)} / ${fmt.int(t.opened)}`,
        counts(t.refused),
        counts(t.closes),
        fmt.int(t.openNow),
        `${fmt.num(t.lifetimeS?.p50, 1)} / ${fmt.num(t.lifetimeS?.max, 1)}`,
        fmt.int(t.framesSent),
        fmt.num(t.bytesSent / 2 ** 20, 1),
      ];
    });
    out.push('What the hostile clients met (how the server ended their connections, and how soon):', '');
    out.push(table(['kind', 'clients', 'tries / opened', 'refused (not opened)', 'ended by the server', 'open at end', 'lifetime s p50 / max', 'frames sent', 'MB sent'], rows), '');
    const meta = x.kinds.meta;
    if (meta?.replies && Object.keys(meta.replies).length > 0) {
      out.push(`replies to the meta kind's requests: ${Object.entries(meta.replies).map(([ref, c]) => `${ref} ${counts(/** @type {any} */ (c))}`).join(' · ')}`, '');
    }
  }
  const notes = [];
  for (const [label, r] of /** @type {Array<[string, any]>} */ ([
    ['well-behaved only', h.baseline],
    ['with hostile clients', h.hostile],
  ])) {
    if (!good(r)) continue;
    const w = r.wellBehaved;
    if (w?.failed) notes.push(`${label}: the well-behaved generator failed: ${w.failed}`);
    if (w?.closedUnexpectedly > 0) notes.push(`${label}: well-behaved clients closed${codesText(w.closeCodes)}`);
    if (w?.errors > 0) notes.push(`${label}: ${fmt.int(w.errors)} errors (${(w.errorSamples ?? []).join('; ').slice(0, 240)})`);
    if (w?.failedConns > 0) notes.push(`${label}: ${fmt.int(w.failedConns)} well-behaved clients could not connect and join`);
    if (w?.cutShort) notes.push(`${label}: the window was cut short at ${fmt.num(w.windowS, 1)} s (the server died)`);
    if (Array.isArray(w?.otherCpuPct) && Math.max(...w.otherCpuPct.map((/** @type {number | null} */ v) => v ?? 0)) > 15) {
      const own = r.hostileCpuPct ? ` (core 1's includes the hostile clients' ${fmt.pct(r.hostileCpuPct)})` : '';
      notes.push(`${label}: other processes used ${w.otherCpuPct.map((/** @type {any} */ v) => fmt.pct(v)).join(' / ')} of cores 0 / 1 during the window${own}: disturbed`);
    }
    const st = r.server.stats;
    if (st && typeof st.connectionsTotal === 'number') {
      notes.push(`${label}: server counters: ${['connectionsTotal', 'slowConsumers', 'rateLimited', 'errors', 'framesIn', 'messagesIn'].map((k) => `${k} ${fmt.int(st[k])}`).join(', ')}`);
    }
    if (!r.server.alive && r.server.stderrTail) {
      const tail = r.server.stderrTail.trim().split('\n').slice(-8).map((/** @type {string} */ l) => `    ${l.slice(0, 240)}`);
      notes.push(`${label}: the server's last words (stderr):\n${tail.join('\n')}`);
    }
  }
  if (notes.length > 0) out.push(...notes.map((n) => `note: ${n}`), '');
  return out;
}

// ---- chart ------------------------------------------------------------------------------------

const COLORS = { roomcast: '#1f6feb', 'roomcast-eph': '#6ea8fe', socketio: '#d1495b', tutorial: '#edae49', minimal: '#2e933c' };

const esc = (/** @type {string} */ s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function compact(/** @type {number} */ v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** The issue's target for roomcast on a scenario's headline metric, as a value on that axis. */
function targetValue(/** @type {Results} */ results, /** @type {string} */ sc) {
  const t = TABLES[sc];
  const of = (/** @type {string} */ s) => {
    const r = results[sc]?.[s];
    const v = ok(r) ? t.metric.get(r) : null;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const times = (/** @type {number | null} */ v, /** @type {number} */ k) => (v === null ? null : v * k);
  switch (sc) {
    case 'A':
      return times(of('socketio'), 5);
    case 'B':
      return times(of('socketio'), 0.7);
    case 'C':
      return times(of('minimal'), 1.2);
    case 'D':
      return 10;
    case 'E':
      return 1;
    case 'F':
      return times(of('socketio'), 2);
    default:
      return null;
  }
}

/** One panel per scenario, one bar per server, on the scenario's headline metric. */
export function chartSvg(/** @type {{ results: Results, servers: string[], machine?: any, mode?: string }} */ run) {
  const { results, servers } = run;
  const scenarios = ['A', 'B', 'C', 'D', 'E', 'F'].filter((sc) => results[sc]);
  const panelW = 460;
  const barH = 18;
  const gap = 6;
  const labelW = 170;
  const panelH = 44 + servers.length * (barH + gap);
  const cols = 2;
  const rows = Math.ceil(scenarios.length / cols);
  const width = cols * panelW + 40;
  const height = 70 + rows * (panelH + 20);
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  const m = run.machine;
  parts.push(`<text x="20" y="28" font-size="16" font-weight="600">roomcast benchmark${run.mode ? ` (${esc(run.mode)} mode)` : ''}</text>`);
  if (m) parts.push(`<text x="20" y="48" fill="#555">${esc(`${m.cpuModel ?? ''} · ${m.nproc} cores · node ${m.node} · ${m.date ?? ''}`)}</text>`);
  scenarios.forEach((sc, k) => {
    const t = TABLES[sc];
    const x0 = 20 + (k % cols) * panelW;
    const y0 = 70 + Math.floor(k / cols) * (panelH + 20);
    parts.push(`<text x="${x0}" y="${y0 + 14}" font-weight="600">${esc(`${sc} · ${t.metric.name}`)}</text>`);
    parts.push(`<text x="${x0}" y="${y0 + 30}" fill="#777" font-size="11">${t.metric.higherIsBetter ? 'higher is better' : 'lower is better'}; dashed: roomcast's target</text>`);
    const values = servers.map((s) => {
      const r = results[sc]?.[s];
      const v = ok(r) ? t.metric.get(r) : null;
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    });
    const target = targetValue(results, sc);
    const max = Math.max(...values.map((v) => v ?? 0), target ?? 0, 1e-9);
    const barMax = panelW - labelW - 70;
    if (target !== null) {
      const tx = (x0 + labelW + (target / max) * barMax).toFixed(1);
      const yTop = y0 + 36;
      const yBottom = y0 + 40 + servers.length * (barH + gap) - gap + 4;
      parts.push(`<line x1="${tx}" y1="${yTop}" x2="${tx}" y2="${yBottom}" stroke="#1f6feb" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${tx}" y="${yBottom + 11}" text-anchor="middle" fill="#1f6feb" font-size="11">${esc(`target ${compact(target)}${t.metric.unit === '/s' ? '' : ` ${t.metric.unit}`}`)}</text>`);
    }
    servers.forEach((s, i) => {
      const y = y0 + 40 + i * (barH + gap);
      const v = values[i];
      const r = results[sc]?.[s];
      parts.push(`<text x="${x0 + labelW - 8}" y="${y + 13}" text-anchor="end">${esc(SERVERS[s]?.label ?? s)}</text>`);
      if (v === null) {
        parts.push(`<text x="${x0 + labelW}" y="${y + 13}" fill="#999">${esc(r?.na ? 'n/a' : r?.failed ? 'failed' : '—')}</text>`);
        return;
      }
      const w = Math.max(1, (v / max) * barMax);
      parts.push(`<rect x="${x0 + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="2" fill="${COLORS[/** @type {keyof typeof COLORS} */ (s)] ?? '#888'}"/>`);
      parts.push(`<text x="${(x0 + labelW + w + 5).toFixed(1)}" y="${y + 13}">${esc(compact(v))}${t.metric.unit === '/s' ? '' : ` ${esc(t.metric.unit)}`}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

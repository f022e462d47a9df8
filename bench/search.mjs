#!/usr/bin/env node
// `npm run bench:search`: how long `search` takes on a store of 100,000 messages, on SQLite and
// on PostgreSQL. Fills each store through the Store interface (20 rooms, English and Chinese
// text, one user a member of every room), then times Store.search for a two-character Chinese
// query, an English word, a query nothing matches (every message read: the worst case) and a
// search in one room. On SQLite it also reports the longest the event loop was held during the
// searches. Results and how to read them: docs/benchmarks.md, "Search".
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LIVE, REPO_DIR } from './lib/servers.mjs';
import { startPostgres } from './lib/services.mjs';

const HELP = `npm run bench:search [-- options]

  --messages N     messages stored (default 100000)
  --rooms N        rooms they are spread over (default 20)
  --runs N         timed runs of each search, after one warm-up; the median is reported (default 9)
  --stores a,b     sqlite, postgres (default both; postgres needs Debian's PostgreSQL 15)
  --trgm           also PostgreSQL with a pg_trgm GIN index on the text, created before filling
                   (the fill time shows what it costs every insert)
  --dist DIR       the built server to measure (default packages/server/dist: npm run build first)
  --json           print the results as JSON instead of a table
  --help           this text`;

const { values: opt } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    rooms: { type: 'string', default: '20' },
    runs: { type: 'string', default: '9' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    trgm: { type: 'boolean', default: false },
    dist: { type: 'string', default: join(REPO_DIR, 'packages/server/dist') },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  process.stdout.write(HELP + '\n');
  process.exit(0);
}
const MESSAGES = Number(opt.messages);
const ROOMS = Number(opt.rooms);
const RUNS = Number(opt.runs);
const dist = resolve(opt.dist);
if (!existsSync(join(dist, 'store/sqlite.js'))) fail(`${dist}/store/sqlite.js is missing: run npm run build first`);
const { openSqliteStore } = await import(pathToFileURL(join(dist, 'store/sqlite.js')).href);
const { openPostgresStore } = await import(pathToFileURL(join(dist, 'store/postgres.js')).href);

function fail(/** @type {string} */ msg) {
  process.stderr.write(`bench:search: ${msg}\n`);
  process.exit(2);
}
const log = (/** @type {string} */ line) => process.stderr.write(line + '\n');

for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.once(sig, () => {
    for (const child of LIVE) child.kill();
    process.stderr.write(`\nbench:search: interrupted (${sig})\n`);
    process.exit(130);
  });
}

// ---- the messages ------------------------------------------------------------------------------

/** mulberry32: the same messages on every run and store. */
function random(/** @type {number} */ seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EN = ('the a to and of we it is on for this that with at be can you have are not will from our team server build ' +
  'release test fix bug review merge branch please check today tomorrow meeting lunch coffee later done thanks ok sure ' +
  'update docs ticket issue log error latency disk memory cpu queue job').split(' ');
const ZH = ('我们 今天 明天 会议 吃饭 服务器 发布 测试 修复 问题 看看 一下 谢谢 好的 没问题 大家 已经 还是 可以 需要 文档 时间 ' +
  '下午 上午 晚上 这个 那个 什么 怎么 为什么 上线 版本 日志 内存').split(' ');

/** Half English, half Chinese; "deploy" (in any case) and 你好 each in about 1 message of 200. */
function* messages(/** @type {number} */ n) {
  const rnd = random(15);
  const pick = (/** @type {string[]} */ list) => list[Math.floor(rnd() * list.length)];
  const start = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    let text;
    if (rnd() < 0.5) {
      const words = Array.from({ length: 4 + Math.floor(rnd() * 12) }, () => pick(EN));
      if (rnd() < 0.01) words.splice(Math.floor(rnd() * words.length), 0, pick(['deploy', 'Deploy', 'deployed', 'DEPLOY']));
      text = words.join(' ');
    } else {
      const words = Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => pick(ZH));
      if (rnd() < 0.01) words.splice(Math.floor(rnd() * words.length), 0, '你好');
      text = words.join('');
    }
    yield { room: `room-${Math.floor(rnd() * ROOMS)}`, text, ts: start + i * 1000, i };
  }
}

const ME = { id: 'u-reader', name: 'Reader' };

/** Rooms, the user in each, then the messages through append (group-committed, 2,000 in flight). */
async function fill(store) {
  await store.upsertUser(ME);
  for (let r = 0; r < ROOMS; r++) {
    await store.createRoom({ id: `room-${r}`, title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: ME.id, createdAt: 1, retention: null, receipts: true });
    await store.addMember(`room-${r}`, ME.id, null, 1);
  }
  const t0 = performance.now();
  let batch = [];
  for (const m of messages(MESSAGES)) {
    batch.push(store.append({ room: m.room, persist: true, from: ME, msgId: `m${m.i}`, text: m.text, ts: m.ts }));
    if (batch.length === 2000) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  return (performance.now() - t0) / 1000;
}

// ---- the searches ------------------------------------------------------------------------------

const SEARCHES = [
  { label: '你好', q: '你好' },
  { label: 'deploy', q: 'deploy' },
  { label: 'no match (reads all)', q: 'zq-nowhere' },
  { label: '你好 in one room', q: '你好', room: 'room-3' },
];

/** Median and slowest of RUNS searches (after one warm-up), and the longest event-loop stall. */
async function timeSearches(store) {
  const rows = [];
  for (const s of SEARCHES) {
    const query = { userId: ME.id, q: s.q, limit: 21, ...(s.room ? { room: s.room } : {}) };
    await store.search(query);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const times = [];
    let hits = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      hits = (await store.search(query)).length;
      times.push(performance.now() - t);
      // A turn of the loop between runs, so the stall measured is one search's.
      await new Promise((r) => setImmediate(r));
    }
    loop.disable();
    times.sort((a, b) => a - b);
    rows.push({ search: s.label, hits, medianMs: round(times[Math.floor(times.length / 2)]), maxMs: round(times.at(-1)), stallMs: round(loop.max / 1e6) });
  }
  return rows;
}

const round = (/** @type {number} */ x) => Math.round(x * 10) / 10;

async function sqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-bench-search-'));
  try {
    const store = await openSqliteStore({ dataDir: dir, sync: 'normal', integrityCheck: 'off' });
    const fillS = await fill(store);
    const rows = await timeSearches(store);
    await store.close();
    return { store: 'SQLite', fillS: round(fillS), rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(pg, /** @type {boolean} */ trgm) {
  const url = pg.createDatabase(trgm ? 'search_trgm' : 'search');
  const store = await openPostgresStore({ url });
  const { default: pgDriver } = await import('pg');
  const admin = new pgDriver.Client({ connectionString: url });
  await admin.connect();
  try {
    if (trgm) {
      await admin.query('create extension if not exists pg_trgm');
      await admin.query('create index messages_by_text_trgm on messages using gin (text gin_trgm_ops)');
    }
    const fillS = await fill(store);
    // What autovacuum would have done by the time a store this size is searched.
    await admin.query('vacuum analyze');
    const rows = await timeSearches(store);
    return { store: trgm ? 'PostgreSQL + pg_trgm GIN' : 'PostgreSQL', fillS: round(fillS), rows };
  } finally {
    await admin.end();
    await store.close();
  }
}

const results = [];
const stores = opt.stores.split(',').map((s) => s.trim());
if (stores.includes('sqlite')) {
  log(`SQLite: filling ${MESSAGES.toLocaleString('en')} messages…`);
  results.push(await sqlite());
}
if (stores.includes('postgres')) {
  let pg;
  try {
    pg = await startPostgres({ core: null });
  } catch (err) {
    log(`PostgreSQL: n/a (${/** @type {Error} */ (err).message.slice(0, 200)})`);
  }
  if (pg) {
    try {
      log(`PostgreSQL: filling ${MESSAGES.toLocaleString('en')} messages…`);
      results.push(await postgres(pg, false));
      if (opt.trgm) {
        log('PostgreSQL with pg_trgm: filling…');
        results.push(await postgres(pg, true));
      }
    } finally {
      pg.stop();
    }
  }
}

if (opt.json) {
  process.stdout.write(JSON.stringify({ messages: MESSAGES, rooms: ROOMS, runs: RUNS, node: process.version, results }, null, 2) + '\n');
} else {
  const lines = [`search over ${MESSAGES.toLocaleString('en')} messages in ${ROOMS} rooms (limit 21, median of ${RUNS} runs)`, ''];
  lines.push('| store | fill | search | hits | median | slowest | longest event-loop stall |', '|---|---:|---|---:|---:|---:|---:|');
  for (const r of results) {
    for (const row of r.rows) lines.push(`| ${r.store} | ${r.fillS} s | ${row.search} | ${row.hits} | ${row.medianMs} ms | ${row.maxMs} ms | ${row.stallMs} ms |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

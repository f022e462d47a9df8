#!/usr/bin/env node
// What one append costs on PostgreSQL at a steady rate (issue 17, item 9): node CPU per message
// (process.cpuUsage of this process, which drives the store directly: no WebSocket, no Redis,
// so it is the store's append path alone), PostgreSQL CPU per message (utime+stime of the
// postmaster and its children from /proc/PID/stat) and WAL bytes per message
// (pg_current_wal_lsn() before and after). Starts its own PostgreSQL 15 (lib/services.mjs).
//
//   node bench/pg-append-cost.mjs                        # packages/server/dist, 2,000 msg/s, 10 s
//   node bench/pg-append-cost.mjs --dist /tmp/w/base/packages/server/dist   # another build (before/after)
//   node bench/pg-append-cost.mjs --rate 500 --seconds 5 --rooms 20 --json
//
// Each append is what the core sends for a member's message: a client id (dedup), moderated
// (mute/membership/slow-mode check inside the commit), persisted.

import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { servicesAvailable, SERVICES_MISSING, startPostgres } from './lib/services.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RATE = Number(opt('rate', 2000));
const SECONDS = Number(opt('seconds', 10));
const WARMUP_S = 2;
const ROOMS = Number(opt('rooms', 100));
const USERS_PER_ROOM = 10;
const DIST = resolve(opt('dist', new URL('../packages/server/dist', import.meta.url).pathname));
const JSON_OUT = args.includes('--json');
const TICK_MS = 5;
const HZ = 100; // USER_HZ: /proc times are in clock ticks of 1/100 s on Linux

/** utime+stime (ms) of the postmaster and every process whose parent it is. */
function pgCpuMs(postmaster) {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    const ppid = Number(f[1]);
    if (pid === postmaster || ppid === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / HZ;
}

const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main() {
  if (!servicesAvailable()) {
    console.error(`pg-append-cost: ${SERVICES_MISSING}`);
    process.exit(2);
  }
  const { openPostgresStore } = await import(pathToFileURL(`${DIST}/store/postgres.js`).href);
  const server = await startPostgres({ core: null });
  try {
    const url = server.createDatabase('cost');
    const store = await openPostgresStore({ url });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const now = Date.now();
    const members = [];
    for (let r = 0; r < ROOMS; r++) {
      const room = `room${r}`;
      await store.createRoom({ id: room, title: null, capacity: null, visibility: 'public', persist: true, direct: false, owner: null, createdAt: now, retention: null, receipts: true });
      const users = [];
      for (let u = 0; u < USERS_PER_ROOM; u++) {
        const user = { id: `u${r}-${u}`, name: `User ${r}-${u}` };
        await store.upsertUser(user);
        await store.addMember(room, user.id, null, now);
        users.push(user);
      }
      members.push({ room, users });
    }
    let n = 0;
    const latencies = [];
    let failed = 0;
    let firstError = '';
    const inFlight = new Set();
    const sendOne = () => {
      const k = n++;
      const { room, users } = members[k % ROOMS];
      const from = users[Math.floor(k / ROOMS) % USERS_PER_ROOM];
      const t0 = performance.now();
      const p = store
        .append({ room, persist: true, from, clientId: `c${k}`, msgId: `m${k}`, text: `message number ${k} with a few words in it`, ts: Date.now(), moderated: 'message' })
        .then(
          () => latencies.push(performance.now() - t0),
          (err) => {
            failed++;
            firstError ||= String(err?.message ?? err);
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    /** Sends at RATE for `ms`, paced by the clock (not by the timer's drift). */
    const drive = (ms) =>
      new Promise((done) => {
        const start = performance.now();
        let sent = 0;
        const timer = setInterval(() => {
          const elapsed = performance.now() - start;
          const due = Math.min(Math.floor((elapsed * RATE) / 1000), Math.floor((ms * RATE) / 1000));
          while (sent < due) {
            sendOne();
            sent++;
          }
          if (elapsed >= ms) {
            clearInterval(timer);
            done(sent);
          }
        }, TICK_MS);
      });
    await drive(WARMUP_S * 1000);
    await Promise.all([...inFlight]);
    latencies.length = 0;
    const commits = async () => Number((await admin.query('select xact_commit from pg_stat_database where datname = current_database()')).rows[0].xact_commit);
    const commits0 = await commits();
    const lsn0 = (await admin.query('select pg_current_wal_lsn() as l')).rows[0].l;
    const node0 = nodeCpuMs();
    const pg0 = pgCpuMs(server.pid);
    const t0 = performance.now();
    const sent = await drive(SECONDS * 1000);
    await Promise.all([...inFlight]);
    const wall = performance.now() - t0;
    const nodeMs = nodeCpuMs() - node0;
    const pgMs = pgCpuMs(server.pid) - pg0;
    const wal = Number((await admin.query('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1) as d', [lsn0])).rows[0].d);
    // Every commit of this database in the window (the appends' group commits, plus this
    // script's own few statements): messages per commit is the mean batch size.
    const commitCount = (await commits()) - commits0;
    await admin.end();
    await store.close();
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    const result = {
      dist: DIST,
      drives: 'the store directly (openPostgresStore from dist), no nodes',
      rate: RATE,
      seconds: SECONDS,
      rooms: ROOMS,
      sent,
      failed,
      achievedPerSec: Math.round((sent / wall) * 1000),
      nodeCpuUsPerMsg: Math.round((nodeMs * 1000) / sent),
      pgCpuUsPerMsg: Math.round((pgMs * 1000) / sent),
      walBytesPerMsg: Math.round(wal / sent),
      msgsPerCommit: Number((sent / Math.max(1, commitCount)).toFixed(1)),
      latencyMs: { p50: Number(q(0.5).toFixed(2)), p99: Number(q(0.99).toFixed(2)) },
      ...(firstError ? { firstError } : {}),
    };
    if (JSON_OUT) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`pg-append-cost: ${result.drives}; ${DIST}`);
      console.log(`  ${sent} appends at ${RATE}/s over ${SECONDS} s (${result.achievedPerSec}/s achieved, ${failed} failed), ${ROOMS} rooms`);
      console.log(`  node CPU      ${result.nodeCpuUsPerMsg} µs/msg   (aim ≤ 150)`);
      console.log(`  PostgreSQL    ${result.pgCpuUsPerMsg} µs/msg   (aim ≤ 150)`);
      console.log(`  WAL           ${result.walBytesPerMsg} bytes/msg`);
      console.log(`  batches       ${result.msgsPerCommit} msgs per commit`);
      console.log(`  latency       p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`);
      if (firstError) console.log(`  first error: ${firstError}`);
    }
  } finally {
    server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

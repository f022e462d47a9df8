#!/usr/bin/env node
// `node bench/presence-100k.mjs [--users 100000] [--joins 200] [--base ../other-checkout] [--dist DIR] [--json]`
//
// Presence in a 100k-member room (issue 17, "Done when": a join of one more member costs under
// 1 ms of Redis time). Starts its own redis-server (loopback, data under /tmp), fills one room's
// presence with N users through RedisPresence (packages/server/dist: run `npm run build` first),
// pipelined, then adds `--joins` more users one at a time and reads Redis' own accounting
// (INFO commandstats: usec per EVALSHA, reset right before) for: one join, one leave, the
// count, and the join reply's first page of 100. `--base DIR` also measures the presence of
// another build (before #17: one hash per room, HGETALL per operation), filled with HSET.
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { LIVE, REPO_DIR } from './lib/servers.mjs';
import { startRedis } from './lib/services.mjs';

const { values: opt } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    joins: { type: 'string', default: '200' },
    base: { type: 'string' },
    /** The compiled server to measure (default packages/server/dist of this checkout). */
    dist: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const USERS = Number(opt.users);
const JOINS = Number(opt.joins);
const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

/** A RedisRunner over one ioredis client (EVALSHA, loading on NOSCRIPT), as the broker's link does. */
class Runner {
  constructor(/** @type {Redis} */ redis) {
    this.redis = redis;
    this.shas = new Map();
  }
  async script(/** @type {{lua: string}} */ s, /** @type {string[]} */ keys, /** @type {any[]} */ args) {
    let sha = this.shas.get(s.lua);
    if (!sha) this.shas.set(s.lua, (sha = createHash('sha1').update(s.lua).digest('hex')));
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String(/** @type {Error} */ (err).message).includes('NOSCRIPT')) throw err;
      return this.redis.eval(s.lua, keys.length, ...keys, ...args);
    }
  }
  command(/** @type {string} */ name, /** @type {string} */ key, /** @type {any[]} */ args) {
    return this.redis.call(name, key, ...args);
  }
}

/** Redis-side µs per call of each command since the last CONFIG RESETSTAT. */
async function commandStats(/** @type {Redis} */ redis) {
  const info = /** @type {string} */ (await redis.info('commandstats'));
  /** @type {Record<string, {calls: number, usecPerCall: number}>} */
  const out = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/gm)) out[m[1]] = { calls: Number(m[2]), usecPerCall: Number(m[3]) };
  return out;
}

/** Runs `fn` `times` times one after the other and returns Redis' µs per EVALSHA over them. */
async function measure(/** @type {Redis} */ redis, /** @type {number} */ times, /** @type {(i: number) => Promise<unknown>} */ fn) {
  await redis.config('RESETSTAT');
  for (let i = 0; i < times; i++) await fn(i);
  const s = await commandStats(redis);
  const e = s.evalsha ?? s.eval;
  return e ? { usecPerCall: e.usecPerCall, calls: e.calls } : { usecPerCall: NaN, calls: 0 };
}

const user = (/** @type {number} */ i) => ({ id: `u${i}`, name: `User ${i}` });

async function current(/** @type {string} */ url) {
  const dist = pathToFileURL(join(opt.dist ? resolve(opt.dist) : join(REPO_DIR, 'packages/server/dist'), 'broker/')).href;
  const { RedisPresence } = await import(`${dist}redis-presence.js`);
  const { RedisKeys } = await import(`${dist}redis-keys.js`);
  // Auto-pipelining batches the fill's concurrent calls into few round trips.
  const redis = new Redis(url, { enableAutoPipelining: true });
  const p = new RedisPresence({ runner: new Runner(redis), keys: new RedisKeys('rc:'), instanceId: `bench~${randomBytes(3).toString('hex')}`, leaseMs: 15000 });
  await p.start();
  const room = 'live-stream';
  const t0 = Date.now();
  for (let i = 0; i < USERS; i += 5000) await Promise.all(Array.from({ length: Math.min(5000, USERS - i) }, (_, j) => p.add(room, user(i + j))));
  const fillMs = Date.now() - t0;
  const online = (await p.counts([room])).get(room);
  const joinCost = await measure(redis, JOINS, (i) => p.add(room, user(USERS + i)));
  const leaveCost = await measure(redis, JOINS, (i) => p.remove(room, `u${USERS + i}`));
  const pageCost = await measure(redis, 50, () => p.page(room, { limit: 100 }));
  await redis.config('RESETSTAT');
  for (let i = 0; i < JOINS; i++) await p.counts([room]);
  const zcard = (await commandStats(redis)).zcard;
  const reply = await p.page(room, { limit: 100 });
  const bytes = Buffer.byteLength(JSON.stringify(reply.users));
  await p.stop();
  redis.disconnect();
  return { online, fillMs, joinUs: joinCost.usecPerCall, leaveUs: leaveCost.usecPerCall, countUs: zcard?.usecPerCall ?? NaN, pageUs: pageCost.usecPerCall, joinReplyMembersBytes: bytes };
}

async function base(/** @type {string} */ url, /** @type {string} */ dir) {
  const { RedisBroker } = await import(pathToFileURL(join(resolve(dir), 'packages/server/dist/broker/redis.js')).href);
  const redis = new Redis(url);
  const room = 'live-stream-base';
  const b = new RedisBroker({ url, nodeId: 'bench-base', leaseMs: 15000 });
  await b.connect();
  // Its layout: hash rc:p:ROOM, field NODE|USER → JSON (filling through its O(n) script is O(n²)).
  const t0 = Date.now();
  for (let i = 0; i < USERS; i += 5000) {
    const args = [];
    for (let j = i; j < Math.min(USERS, i + 5000); j++) args.push(`bench-base|u${j}`, JSON.stringify(user(j)));
    await redis.hset(`rc:p:${room}`, ...args);
  }
  const fillMs = Date.now() - t0;
  const joins = Math.min(JOINS, 20);
  const joinCost = await measure(redis, joins, (i) => b.presenceAdd(room, user(USERS + i)));
  const listCost = await measure(redis, 5, () => b.presenceList(room));
  const list = await b.presenceList(room);
  await b.close();
  redis.disconnect();
  return { online: list.length, fillMs, joinUs: joinCost.usecPerCall, listUs: listCost.usecPerCall, joinReplyMembersBytes: Buffer.byteLength(JSON.stringify(list)) };
}

const srv = await startRedis({ core: null });
try {
  log(`presence-100k: ${USERS} users in one room, then ${JOINS} joins and leaves (Redis ${srv.url})`);
  const now = await current(srv.url);
  const before = opt.base ? await base(srv.url, opt.base) : undefined;
  if (opt.json) {
    console.log(JSON.stringify({ users: USERS, joins: JOINS, current: now, ...(before ? { base: before } : {}) }, null, 2));
  } else {
    const row = (/** @type {string} */ k, /** @type {string} */ v, /** @type {string} */ b = '') => console.log(`${k.padEnd(44)} ${v.padStart(12)} ${b.padStart(14)}`);
    row('', 'this build', before ? 'base' : '');
    row('online users in the room', String(now.online), before ? String(before.online) : '');
    row('fill time (pipelined), ms', String(now.fillMs), before ? String(before.fillMs) : '');
    row('Redis µs per join (one more member)', now.joinUs.toFixed(1), before ? before.joinUs.toFixed(1) : '');
    row('Redis µs per leave', now.leaveUs.toFixed(1));
    row('Redis µs per count (ZCARD)', now.countUs.toFixed(1));
    row('Redis µs per join-reply page (100 members)', now.pageUs.toFixed(1), before ? `${before.listUs.toFixed(1)} (all)` : '');
    row('join reply `members` bytes', String(now.joinReplyMembersBytes), before ? String(before.joinReplyMembersBytes) : '');
    console.log(`target: a join under 1,000 µs of Redis time at ${USERS} online: ${now.joinUs < 1000 ? 'met' : 'NOT met'}`);
  }
} finally {
  await srv.stop();
  for (const e of LIVE) e.kill?.();
}

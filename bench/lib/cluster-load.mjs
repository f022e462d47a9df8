// A load process for bench/cluster-costs.mjs: holds up to ~19,900 roomcast connections to one
// node on 127.0.0.1, joins rooms, publishes at a paced rate with a cap on unacknowledged sends,
// and reports cumulative counters. It is driven over IPC by the parent:
//   → { id, cmd, ...args }   ← { id, ok: true, result } | { id, ok: false, error }
// Commands: open, create, join, publishStart, publishStop, counters, close.
import { Pool, marker } from './client.mjs';
import { roomcast, request } from './protocols.mjs';

/** One process stays under the 20,000 descriptors it may have open. */
const MAX_SOCKETS = 19_900;
/** A publisher with this many sends unacknowledged skips its turn (the node is saturated). */
const MAX_INFLIGHT = 20;

/** @type {Pool | null} */
let pool = null;
/** Publishers by group (the rooms of one `open`), so each group can be driven on its own. */
/** @type {Map<string, import('./client.mjs').Client[]>} */
const publishers = new Map();
let timer = /** @type {NodeJS.Timeout | null} */ (null);
const counters = { sent: 0, acked: 0, refused: 0, skipped: 0, joinRetries: 0 };

function need(/** @type {any} */ a) {
  if (!pool) pool = new Pool({ port: a.port, protocol: roomcast, socketio: false });
  if (pool.port !== a.port) throw new Error('one load process talks to one node');
  return pool;
}

/**
 * Joins, retrying an `unavailable` refusal a few times (an overloaded node sheds joins that way;
 * the retries are counted and reported rather than failing the run).
 */
async function joinRetrying(/** @type {import('./client.mjs').Client} */ c, /** @type {string} */ room) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await roomcast.join(c, room);
    } catch (err) {
      if (attempt >= 5 || !String(/** @type {Error} */ (err)?.message).includes('unavailable')) throw err;
      counters.joinRetries++;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Opens `count` connections named PREFIX-i; connection i joins rooms[i % rooms.length]. */
async function open(/** @type {any} */ a) {
  const p = need(a);
  if (p.clients.length + a.count > MAX_SOCKETS) throw new Error(`a load process holds at most ${MAX_SOCKETS} sockets`);
  const opened = [];
  await Pool.parallel(a.count, a.concurrency ?? 100, async (i) => {
    const c = await p.connect(`${a.prefix}${i}`);
    c.room = a.rooms[i % a.rooms.length];
    if (a.join !== false) await joinRetrying(c, c.room);
    opened[i] = c;
  });
  // Publishers: the first connection of each room whose index has the given parity.
  if (a.publish) {
    const group = publishers.get(a.publish.group ?? '') ?? [];
    publishers.set(a.publish.group ?? '', group);
    for (let i = 0; i < Math.min(a.count, a.rooms.length); i++) {
      if (i % 2 !== a.publish.parity) continue;
      const c = opened[i];
      c.inflight = 0;
      c.tap = (/** @type {string} */ f) => {
        if (!f.startsWith('{"op":"reply"')) return;
        c.inflight--;
        if (f.includes('"ok":false')) counters.refused++;
        else counters.acked++;
      };
      group.push(c);
    }
  }
  return { clients: p.clients.length, publishers: publishers.get(a.publish?.group ?? '')?.length ?? 0 };
}

/** One connection creates each room (persistent) and stays a member. */
async function create(/** @type {any} */ a) {
  const p = need(a);
  const c = await p.connect(`${a.prefix}creator`);
  for (const room of a.rooms) await roomcast.create(c, room, true);
  return { rooms: a.rooms.length };
}

/**
 * The first `count` connections opened with PREFIX join rooms[i % rooms.length], `concurrency`
 * at a time; resolves once every join is answered.
 */
async function join(/** @type {any} */ a) {
  const p = need(a);
  const members = p.clients.filter((c) => c.name.startsWith(a.prefix)).slice(0, a.count);
  if (members.length < a.count) throw new Error(`only ${members.length} connections named ${a.prefix}*`);
  const t0 = performance.now();
  await Pool.parallel(members.length, a.concurrency ?? 10, async (i) => {
    await request(members[i], `"op":"join","room":${JSON.stringify(a.rooms[i % a.rooms.length])},"history":0`);
  });
  return { joins: members.length, ms: performance.now() - t0 };
}

/** Publishes `rate` messages a second in all, round-robin over the publishers of `group`. */
function publishStart(/** @type {any} */ a) {
  if (timer) throw new Error('already publishing');
  const group = publishers.get(a.group ?? '') ?? [];
  if (group.length === 0) throw new Error(`no publishers of group "${a.group ?? ''}" in this process`);
  let due = 0;
  let next = 0;
  let last = performance.now();
  timer = setInterval(() => {
    const now = performance.now();
    due += (a.rate * (now - last)) / 1000;
    last = now;
    for (; due >= 1; due--) {
      const c = group[next++ % group.length];
      if (c.inflight >= MAX_INFLIGHT) {
        counters.skipped++;
        continue;
      }
      c.inflight++;
      counters.sent++;
      c.send(roomcast.publish(c, c.room, marker()));
    }
  }, 5);
  return {};
}

function publishStop() {
  if (timer) clearInterval(timer);
  timer = null;
  return {};
}

function snapshot() {
  return { ...counters, delivered: pool?.deliveries ?? 0, errors: pool?.errors ?? 0, errorSamples: pool?.errorSamples ?? [], closed: pool?.closedUnexpectedly ?? 0 };
}

const COMMANDS = { open, create, join, publishStart, publishStop, counters: snapshot };

process.on('message', async (/** @type {any} */ m) => {
  if (m.cmd === 'close') {
    publishStop();
    pool?.closeAll();
    process.send?.({ id: m.id, ok: true, result: {} }, () => setTimeout(() => process.exit(0), 50));
    return;
  }
  try {
    const fn = /** @type {Record<string, (a: any) => any>} */ (COMMANDS)[m.cmd];
    if (!fn) throw new Error(`unknown command ${m.cmd}`);
    process.send?.({ id: m.id, ok: true, result: await fn(m) });
  } catch (err) {
    process.send?.({ id: m.id, ok: false, error: String(/** @type {Error} */ (err)?.message ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));

import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil, within, type WakeOn } from '../../../test/wait.js';
import type { RoomcastClient } from '../src/client.js';
import type { Message } from '../src/messages.js';
import type { Room } from '../src/room.js';
import { ChaosProxy } from './chaos/proxy.js';
import { ServerProcess } from './chaos/server-process.js';
import { client, removeDir, tempDir } from './helpers.js';

// The SDK's promise under fire: N clients in several rooms send at a steady rate while the
// network and the server misbehave, repeatedly:
//   (a) connections are cut (dropped) or stalled (nothing forwarded) by a TCP proxy,
//   (b) the server is killed with SIGKILL and restarted on the same data (on a new port, which
//       the proxies hide),
//   (c) a client's proxy stops reading, so the server closes it as a slow consumer (1013).
// Afterwards every acknowledged send must be in the room's history, and every client must have
// delivered exactly the room's stored messages after its join position: each once, in seq order.
//
// Phases advance on events (a reconnect, the server's slow-consumer counter) with deadlines that
// only turn a hang into a failure; the few fixed pauses are windows in which traffic piles up.

const CLIENTS = 6;
const ROOMS = ['chaos-a', 'chaos-b', 'chaos-c'];
/** Each client also has a room shared only with the flooder: flooding it makes that client, and no other, a slow consumer. */
const slowRoom = (name: string) => `slow-${name}`;
const CYCLES = 3;
const SEND_EVERY_MS = 120;
const SERVER_HEARTBEAT_MS = 1000;
/** The clients' own heartbeat: a stalled path is noticed after twice this. */
const CLIENT_HEARTBEAT_MS = 2000;
/** Characters per flood message (the server runs with --max-text to allow it). */
const FLOOD_TEXT = 60_000;
const PHASE_DEADLINE_MS = 15_000;

interface Member {
  name: string;
  chat: RoomcastClient;
  proxy: ChaosProxy;
  rooms: Map<string, { room: Room; joinedAt: number; delivered: Message[] }>;
  /** The rooms it chats in (not its slow room). */
  chatRooms: Room[];
  acked: Array<{ room: string; seq: number; id: string }>;
  failures: unknown[];
  pending: Array<Promise<unknown>>;
  /** Recent state changes and errors, printed when a phase times out. */
  log: string[];
}

/** Deterministic choices: the same victims every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` holds, re-checking whenever one of the clients reports an event. */
async function until(what: string, clients: RoomcastClient[], check: () => boolean, describe?: () => string): Promise<void> {
  const on = clients.flatMap((c): WakeOn[] => [(wake) => c.on('state', wake), (wake) => c.on('dm', wake)]);
  // Events drive progress; the slow poll only covers state that changes without one.
  await waitUntil(check, { what, ...(describe ? { seen: describe } : {}), timeoutMs: PHASE_DEADLINE_MS, on, pollMs: 50 });
}

describe('chaos', () => {
  const dataDir = tempDir('roomcast-chaos-');
  const server = new ServerProcess(dataDir, [
    '--rate', '0',
    '--send-buffer', '65536',
    '--max-text', String(FLOOD_TEXT),
    // A member that stops reading falls behind first and is closed once its socket took nothing this long.
    '--send-timeout', '400',
    '--heartbeat', String(SERVER_HEARTBEAT_MS),
    '--log-level', 'silent',
  ]);
  const members: Member[] = [];
  const proxies: ChaosProxy[] = [];
  const extra: RoomcastClient[] = [];

  afterAll(async () => {
    for (const m of members) m.chat.close();
    for (const c of extra) c.close();
    for (const p of proxies) await p.close();
    await server.kill();
    removeDir(dataDir);
  });

  it(
    'delivers every acknowledged message exactly once, in order, through cuts, stalls, kills and slow-consumer closes',
    async () => {
      const started = Date.now();
      const random = prng(20261123);
      let port = await server.start();

      // Rooms exist before anyone joins or sends, so every client's position starts at 0.
      const admin = client(`ws://127.0.0.1:${port}/ws`, { name: 'admin' });
      await admin.connect();
      for (const id of ROOMS) await admin.create({ room: id });
      for (let i = 0; i < CLIENTS; i++) await admin.create({ room: slowRoom(`c${i}`) });
      admin.close();

      const addMember = async (name: string, roomIds: string[]): Promise<Member> => {
        const proxy = new ChaosProxy(port);
        proxies.push(proxy);
        const proxyPort = await proxy.start();
        const chat = client(`ws://127.0.0.1:${proxyPort}/ws`, {
          name,
          heartbeat: CLIENT_HEARTBEAT_MS,
          minReconnectDelay: 50,
          maxReconnectDelay: 800,
          stableAfter: 2000,
          connectTimeout: 3000,
          requestTimeout: 30_000,
        });
        await chat.connect();
        const m: Member = { name, chat, proxy, rooms: new Map(), chatRooms: [], acked: [], failures: [], pending: [], log: [] };
        const note = (what: string) => {
          m.log.push(`+${Date.now() - started}ms ${what}`);
          if (m.log.length > 12) m.log.shift();
        };
        chat.on('state', (e) => note(`${e.previous}->${e.state}${e.code ? ` (${e.code} ${e.reason ?? ''})` : ''}`));
        chat.on('error', (e) => note(`error ${e.error.code}: ${e.error.message}`));
        for (const id of roomIds) {
          const room = await chat.join(id);
          const entry = { room, joinedAt: room.lastSeq, delivered: [] as Message[] };
          room.on('message', (msg) => entry.delivered.push(msg));
          m.rooms.set(id, entry);
          if (ROOMS.includes(id)) m.chatRooms.push(room);
        }
        members.push(m);
        return m;
      };
      const track = (m: Member, room: Room, p: Promise<{ seq: number; id: string }>) => {
        m.pending.push(
          p.then(
            (r) => m.acked.push({ room: room.id, seq: r.seq, id: r.id }),
            (err: unknown) => m.failures.push(err),
          ),
        );
      };

      const senders: Member[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        senders.push(await addMember(`c${i}`, [ROOMS[i % ROOMS.length] as string, ROOMS[(i + 1) % ROOMS.length] as string, slowRoom(`c${i}`)]));
      }
      // The flooder fills a choked client's slow room; it is never faulted itself.
      const flooder = await addMember('flood', [...ROOMS, ...senders.map((m) => slowRoom(m.name))]);

      // Steady traffic: every sender, every SEND_EVERY_MS, alternating between its rooms.
      let sending = true;
      const loops = senders.map(async (m, i) => {
        await pause((i * SEND_EVERY_MS) / CLIENTS);
        const rooms = m.chatRooms;
        for (let k = 0; sending; k++) {
          const room = rooms[k % rooms.length] as Room;
          track(m, room, room.send(`${m.name}#${k}`));
          await pause(SEND_EVERY_MS);
        }
      });

      const all = [...members.map((m) => m.chat)];
      const reconnectsOf = (ms: Member[]) => ms.map((m) => m.chat.stats.reconnects);
      const reconnected = (ms: Member[], before: number[]) => () =>
        ms.every((m, i) => m.chat.state === 'connected' && m.chat.stats.reconnects > (before[i] as number));
      const status = (ms: Member[], before: number[]) => () =>
        ms
          .map(
            (m, i) =>
              `  ${m.name}: ${m.chat.state}, reconnects ${before[i]}->${m.chat.stats.reconnects}, proxy open=${m.proxy.open} frozen=${m.proxy.frozenCount} accepted=${m.proxy.accepted}\n    ${m.log.join('\n    ')}`,
          )
          .join('\n');
      let drops = 0;
      let stalls = 0;
      let kills = 0;
      let slowCloses = 0;

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await pause(300);
        // (a) + (c): cut two clients, stall one, choke one, all at once.
        const order = [...senders];
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [order[i], order[j]] = [order[j] as Member, order[i] as Member];
        }
        const [cutA, cutB, stalled, choked] = order as [Member, Member, Member, Member];
        const victims = [cutA, cutB, stalled, choked];
        const before = reconnectsOf(victims);
        const slowBefore = (await server.stats()).slowConsumers;
        cutA.proxy.drop();
        cutB.proxy.drop();
        drops += 2;
        stalled.proxy.stall();
        stalls++;
        choked.proxy.choke();
        // Fill the choked client's slow room until the server gives up on it.
        const target = flooder.rooms.get(slowRoom(choked.name))?.room as Room;
        // Text, which a member that fell behind gets in full from the store (a binary message
        // comes as a link then), so the flood really piles up in front of the choked socket.
        for (let batch = 0; batch < 24; batch++) {
          const text = String.fromCharCode(97 + ((cycle * 7 + batch) % 26)).repeat(FLOOD_TEXT);
          const burst = Array.from({ length: 16 }, () => target.send(text));
          for (const p of burst) track(flooder, target, p);
          await Promise.all(burst);
          if ((await server.stats()).slowConsumers > slowBefore) break;
        }
        // The choked client fell behind (its room's messages wait in the store); it is closed once
        // its socket has taken nothing for --send-timeout.
        // The counter lives in the server process: polled over HTTP.
        await waitUntil(async () => (await server.stats()).slowConsumers !== slowBefore, {
          what: `cycle ${cycle}: the server closing a slow consumer`,
          timeoutMs: PHASE_DEADLINE_MS,
          pollMs: 50,
        });
        const slowNow = (await server.stats()).slowConsumers;
        expect(slowNow, `cycle ${cycle}: the server closed no slow consumer`).toBeGreaterThan(slowBefore);
        slowCloses += slowNow - slowBefore;
        // Cycle 0: the choked client reads its backlog and then the server's 1013. Later cycles:
        // the path is cut, so the acks queued behind the flood are lost and its resends come back
        // as duplicates.
        const closeCodes: number[] = [];
        const offState = choked.chat.on('state', (e) => {
          if (e.code !== undefined) closeCodes.push(e.code);
        });
        choked.proxy.release(cycle === 0);
        await until(`cycle ${cycle}: cut, stalled and choked clients back`, all, reconnected(victims, before), status(victims, before));
        offState();
        if (cycle === 0) expect(closeCodes[0], `${choked.name} was closed as a slow consumer`).toBe(1013);
        stalled.proxy.release();

        // (b): kill -9, let sends pile up in the outboxes, restart on the same data.
        await pause(200);
        const beforeKill = reconnectsOf(members);
        await server.kill();
        kills++;
        await pause(400);
        port = await server.start();
        for (const p of proxies) p.retarget(port);
        await until(`cycle ${cycle}: every client back after the restart`, all, reconnected(members, beforeKill), status(members, beforeKill));
      }

      sending = false;
      await Promise.all(loops);
      const settled = Promise.all(members.flatMap((m) => m.pending));
      await within(settled, PHASE_DEADLINE_MS, 'every send to be acknowledged');

      // What the server stored, read by a fresh client straight from the server.
      const verifier = client(`ws://127.0.0.1:${port}/ws`, { name: 'verifier' });
      extra.push(verifier);
      await verifier.connect();
      const stored = new Map<string, Message[]>();
      for (const id of [...ROOMS, ...senders.map((m) => slowRoom(m.name))]) {
        const room = await verifier.join(id, { history: 0 });
        const messages: Message[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await room.history(before === undefined ? { limit: 200 } : { before, limit: 200 });
          messages.unshift(...page.messages);
          if (!page.more || page.messages.length === 0) break;
          before = page.messages[0]?.seq;
        }
        stored.set(id, messages);
      }

      // Every client catches up to the end of each of its rooms.
      await until('every client delivering up to the last stored message', all, () =>
        members.every((m) => [...m.rooms].every(([id, r]) => r.room.lastSeq === (stored.get(id)?.length ?? -1))),
      );

      for (const messages of stored.values()) {
        // History is gapless: seqs 1..L.
        expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
      }
      for (const m of members) {
        expect(m.failures, `${m.name}: sends failed`).toEqual([]);
        for (const a of m.acked) {
          expect(stored.get(a.room)?.[a.seq - 1]?.id, `${m.name}: acknowledged ${a.room}#${a.seq} missing from history`).toBe(a.id);
        }
        for (const [id, r] of m.rooms) {
          // Owed: everything stored after the position it joined at (0 here: rooms were empty).
          const owed = (stored.get(id) ?? []).filter((s) => s.seq > r.joinedAt);
          expect(r.delivered.map((d) => d.seq), `${m.name} in ${id}: delivered seqs`).toEqual(owed.map((s) => s.seq));
          expect(r.delivered.map((d) => d.id), `${m.name} in ${id}: delivered ids`).toEqual(owed.map((s) => s.id));
        }
      }

      const sum = (f: (m: Member) => number) => members.reduce((n, m) => n + f(m), 0);
      const counts = {
        sent: sum((m) => m.chat.stats.sent),
        acknowledged: sum((m) => m.chat.stats.acknowledged),
        delivered: sum((m) => m.chat.stats.delivered),
        duplicatesSuppressed: sum((m) => m.chat.stats.duplicates),
        reconnects: sum((m) => m.chat.stats.reconnects),
        gapsFilled: sum((m) => m.chat.stats.gapsFilled),
        stored: [...stored.values()].reduce((n, s) => n + s.length, 0),
      };
      console.log(
        `chaos: sent=${counts.sent} acknowledged=${counts.acknowledged} stored=${counts.stored} delivered=${counts.delivered} ` +
          `duplicatesSuppressed=${counts.duplicatesSuppressed} reconnects=${counts.reconnects} gapsFilled=${counts.gapsFilled} ` +
          `cuts=${drops} stalls=${stalls} kills=${kills} slowConsumerCloses=${slowCloses} clients=${members.length} rooms=${stored.size} ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(counts.acknowledged).toBe(counts.sent);
      expect(counts.stored).toBe(counts.acknowledged);
      expect(kills).toBe(CYCLES);
      expect(slowCloses).toBeGreaterThanOrEqual(CYCLES);
      expect(counts.reconnects).toBeGreaterThanOrEqual(CYCLES * (members.length + 4));
    },
    90_000,
  );
});

// The hostile clients of scenario H, one kind per process (bench/hostile.mjs). Each client is a
// slot that connects, misbehaves until the server lets go of it, notes how that ended, waits a
// moment and comes back, so the pressure lasts the whole run however the server defends itself.
//   neverRead  joins a room, then stops reading its socket; pings and asks for history now and
//              then, so the server's output to it piles up (the slow-consumer defence)
//   flood      writes junk frames as fast as the socket takes them, or one protocol violation
//              per connection (the rate limit, the frame checks, upgrade churn)
//   idle       plain TCP: sends nothing, half a request head, or the head a byte a second
//              (the handshake deadline and the per-address pending limit)
//   meta       joins a room and sends deep, wide and oversized requests (parsing, the meta and
//              frame size limits)
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from './hist.mjs';
import { FLOODS, META_VARIANTS, VIOLATIONS, frame, frameParts, pingFrame } from './hostile-frames.mjs';
import { connectRawWs } from './rawws.mjs';

/**
 * @typedef {object} HostileJob
 * @property {'neverRead' | 'flood' | 'idle' | 'meta'} kind
 * @property {number} port
 * @property {number} count           clients (slots) of this kind
 * @property {string[]} rooms         the well-behaved clients' rooms, which neverRead and meta join
 * @property {Record<string, number>} params  H's parameters (unreadEveryMs, metaEveryMs, reconnectMs)
 */

const inc = (/** @type {Record<string, number>} */ m, /** @type {string} */ k, n = 1) => (m[k] = (m[k] ?? 0) + n);

/** What happened to one kind's clients. */
class Tally {
  constructor(/** @type {string} */ kind, /** @type {number} */ slots) {
    this.kind = kind;
    this.slots = slots;
    /** Connections tried, and how many got as far as open (upgraded; TCP-connected for idle). */
    this.attempts = 0;
    this.opened = 0;
    /** Attempts that never opened, by why (HTTP status of a refused upgrade, socket error, …). */
    /** @type {Record<string, number>} */
    this.refused = {};
    /** Open connections the server ended, by how (close code, "no close frame", what it answered). */
    /** @type {Record<string, number>} */
    this.closes = {};
    /** One close reason per close code, to see which defence spoke. */
    /** @type {Record<string, string>} */
    this.reasons = {};
    this.framesSent = 0;
    this.bytesSent = 0;
    /** Replies to the requests, by variant (the ref) and then ok / error code. */
    /** @type {Record<string, Record<string, number>>} */
    this.replies = {};
    this.errorEvents = 0;
    /** Join requests the server refused (neverRead, meta). */
    this.joinFailed = 0;
    /** How long open connections lasted until the server ended them (µs, summarized in ms). */
    this.lifetimes = new Histogram();
    this.openNow = 0;
  }

  closed(/** @type {string} */ how, /** @type {number} */ openedAt, /** @type {string} */ reason = '') {
    inc(this.closes, how);
    if (reason && !(how in this.reasons)) this.reasons[how] = reason.slice(0, 120);
    this.lifetimes.record((performance.now() - openedAt) * 1000);
  }

  summary() {
    const { lifetimes, ...rest } = this;
    const l = lifetimes.summary();
    return { ...rest, closedByServer: l.count, lifetimeS: { p50: l.p50 === null ? null : l.p50 / 1000, max: l.max === null ? null : l.max / 1000 } };
  }
}

/** A failed attempt's cause, short: "HTTP 503", "ECONNRESET", "closed during upgrade", … */
function refusal(/** @type {any} */ err) {
  const m = /upgrade refused: HTTP\/1\.1 (\d+)/.exec(err?.message ?? '');
  if (m) return `HTTP ${m[1]}`;
  if (err?.code) return err.code;
  if (/timed out/.test(err?.message ?? '')) return 'upgrade timeout';
  return String(err?.message ?? err).slice(0, 40);
}

/** How an open WebSocket ended: the server's close code, or what the socket said. */
function wsEnding(/** @type {import('./rawws.mjs').RawWs} */ ws, /** @type {any} */ err) {
  if (ws.closeCode !== null) return String(ws.closeCode);
  if (err?.code) return err.code;
  return 'no close frame';
}

/**
 * Starts `job.count` clients of `job.kind`; `stop()` takes them down and resolves with the tally.
 * `onFirstRound` runs once every slot's first connection has opened or failed (the orchestrator
 * waits for it, so the window starts with the hostile clients in place).
 */
export function runHostile(/** @type {HostileJob} */ job, onFirstRound = () => {}) {
  const t = new Tally(job.kind, job.count);
  const p = job.params;
  /** @type {Set<net.Socket>} */
  const live = new Set();
  let stopping = false;
  let firstRound = 0;
  const behaviour = KINDS[job.kind];
  if (!behaviour) throw new Error(`unknown hostile kind ${job.kind}`);

  const slot = async (/** @type {number} */ i) => {
    for (let round = 0; !stopping; round++) {
      t.attempts++;
      let counted = round > 0;
      const started = () => {
        if (!counted && ++firstRound === job.count) onFirstRound();
        counted = true;
      };
      const opened = await behaviour({ job, t, i, round, live, started, stopped: () => stopping }).catch((err) => {
        inc(t.refused, refusal(err));
        return false;
      });
      started();
      if (stopping) break;
      // Refused attempts back off longer: a refusal loop must not become a flood of its own.
      await sleep(p.reconnectMs * (opened ? 1 : 4) * (0.5 + Math.random()));
    }
  };
  // Not all at once: a burst of 50 upgrades would be a test of its own.
  const slots = Array.from({ length: job.count }, (_, i) => sleep(i * 20).then(() => slot(i)));

  return {
    async stop() {
      stopping = true;
      t.openNow = live.size;
      for (const s of live) s.destroy();
      await Promise.race([Promise.all(slots), sleep(2000)]);
      return t.summary();
    },
  };
}

/**
 * One connection of a WebSocket kind: upgrade, then `body` until the server ends it (or `body`
 * returns false: the client gives up on it, e.g. a refused join). Resolves true once it has
 * ended after opening; rejects when it never opened.
 * @param {{ job: HostileJob, t: Tally, i: number, live: Set<net.Socket>, started: () => void, stopped: () => boolean }} c
 * @param {(ws: import('./rawws.mjs').RawWs, ended: Promise<void>) => void | boolean | Promise<void | boolean>} body
 * @param {(ws: import('./rawws.mjs').RawWs, text: string | null) => void} [onFrame]  text frames (null: binary)
 * @param {(ws: import('./rawws.mjs').RawWs, err: any) => string} [ending]  names how it ended
 */
async function wsConnection(c, body, onFrame = () => {}, ending = wsEnding) {
  const { job, t, i, live } = c;
  let resolveEnd = () => {};
  const ended = new Promise((r) => (resolveEnd = () => r(undefined)));
  let openedAt = 0;
  const ws = await connectRawWs({
    port: job.port,
    path: `/ws?name=${job.kind}${i}`,
    timeoutMs: 10000,
    handlers: {
      onMessage: (w, buf, s, e) => onFrame(w, buf[s] === 0x7b ? buf.toString('utf8', s, Math.min(e, s + 400)) : null),
      onClose: (w, err) => {
        live.delete(w.socket);
        if (!c.stopped()) t.closed(ending(w, err), openedAt, w.closeReason);
        resolveEnd();
      },
    },
  });
  openedAt = performance.now();
  t.opened++;
  live.add(ws.socket);
  c.started();
  // Writes into a socket the server has dropped fail with EPIPE: that is how it ends, not a crash.
  ws.socket.on('error', () => {});
  if ((await body(ws, ended)) === false) {
    // RawWs.close() reports no close of its own: end this connection here.
    live.delete(ws.socket);
    ws.close();
    resolveEnd();
  }
  await ended;
  return true;
}

/** Writes a frame's parts in one go; resolves when the socket can take more. */
function writeFrame(/** @type {net.Socket} */ socket, /** @type {Buffer[]} */ parts, /** @type {Tally} */ t) {
  if (socket.destroyed) return Promise.resolve();
  socket.cork();
  let ok = true;
  for (const part of parts) ok = socket.write(part);
  socket.uncork();
  t.framesSent++;
  t.bytesSent += parts.reduce((n, x) => n + x.length, 0);
  return ok ? Promise.resolve() : new Promise((r) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      r(undefined);
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Joins `room` and waits for the reply; false when the server refused or never answered. */
function joinRoom(/** @type {import('./rawws.mjs').RawWs} */ ws, /** @type {string} */ room) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 10000);
    ws.state = {
      joined: (/** @type {boolean} */ ok) => {
        clearTimeout(timer);
        resolve(ok);
      },
    };
    ws.send(`{"op":"join","ref":"join","room":${JSON.stringify(room)},"history":0}`);
  });
}

/** Counts a reply (or error event) by its ref; tells a pending join how it went. */
function countReply(/** @type {Tally} */ t, /** @type {import('./rawws.mjs').RawWs} */ ws, /** @type {string | null} */ f) {
  if (f === null || f.startsWith('{"op":"msg"') || f.startsWith('{"op":"presence"')) return;
  if (f.startsWith('{"op":"error"')) {
    t.errorEvents++;
    inc((t.replies['(error event)'] ??= {}), /"code":"([^"]+)"/.exec(f)?.[1] ?? '?');
    return;
  }
  if (!f.startsWith('{"op":"reply"')) return;
  const ref = /"ref":("[^"]*"|\d+)/.exec(f)?.[1]?.replace(/"/g, '') ?? '?';
  const ok = f.includes('"ok":true');
  const code = ok ? 'ok' : /"code":"([^"]+)"/.exec(f)?.[1] ?? '?';
  if (ref === 'join') {
    if (!ok) t.joinFailed++;
    ws.state?.joined?.(ok);
    return;
  }
  inc((t.replies[ref] ??= {}), code);
}

/** @type {Record<string, (c: { job: HostileJob, t: Tally, i: number, round: number, live: Set<net.Socket>, started: () => void, stopped: () => boolean }) => Promise<boolean>>} */
const KINDS = {
  async neverRead(c) {
    const { job, t, i } = c;
    const room = job.rooms[i % job.rooms.length];
    let pausedAt = 0;
    return wsConnection(
      c,
      async (ws, ended) => {
        if (!(await Promise.race([joinRoom(ws, room), ended.then(() => false)]))) return false;
        // From here on the socket is never read again: the kernel's buffers fill, then the
        // server's. A ping and a request for a page of history each interval keep the server
        // writing to it (and keep it from looking silent to the heartbeat).
        ws.socket.pause();
        pausedAt = performance.now();
        const ping = pingFrame();
        const asks = [
          frame(`{"op":"history","ref":"history","room":${JSON.stringify(room)},"limit":200}`),
          frame(`{"op":"join","ref":"rejoin","room":${JSON.stringify(room)},"history":1000}`),
        ];
        let open = true;
        void ended.then(() => (open = false));
        for (let k = 0; open && !c.stopped(); k++) {
          ws.socket.write(ping);
          ws.socket.write(asks[k % asks.length]);
          t.framesSent += 2;
          t.bytesSent += ping.length + asks[k % asks.length].length;
          await Promise.race([sleep(job.params.unreadEveryMs), ended]);
        }
      },
      (ws, f) => countReply(t, ws, f),
      // Unread, the close frame (if any) is never seen: what ends it is a write that fails.
      (ws, err) => (pausedAt > 0 ? `dropped while unread (${err?.code ?? (ws.closeCode ?? 'closed')})` : wsEnding(ws, err)),
    );
  },

  async flood(c) {
    const { t, i, round } = c;
    const variant = i % (FLOODS.length + 1);
    return wsConnection(
      c,
      (ws, ended) => {
        if (variant === FLOODS.length) {
          // One protocol violation, then wait for the server to close the connection.
          const v = VIOLATIONS[(i + round) % VIOLATIONS.length];
          ws.socket.write(v.bytes);
          t.framesSent++;
          t.bytesSent += v.bytes.length;
          return;
        }
        const { buf, frames } = FLOODS[variant].chunk;
        let open = true;
        void ended.then(() => (open = false));
        // As fast as the socket takes them: write until it pushes back, go on at 'drain'. A
        // loopback socket may take a lot at once, so yield now and then to see closes and IPC.
        const pump = () => {
          for (let k = 0; k < 16; k++) {
            if (!open || c.stopped() || ws.socket.destroyed) return;
            t.framesSent += frames;
            t.bytesSent += buf.length;
            if (!ws.socket.write(buf)) {
              ws.socket.once('drain', pump);
              return;
            }
          }
          setImmediate(pump);
        };
        pump();
      },
      (ws, f) => countReply(t, ws, f),
    );
  },

  idle(c) {
    const { job, t, i, live } = c;
    const variant = i % 3; // 0: silent, 1: half a request head, 2: the head a byte a second
    const head = Buffer.from(
      `GET /ws?name=idle${i} HTTP/1.1\r\nHost: 127.0.0.1:${job.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: job.port, host: '127.0.0.1' });
      let openedAt = 0;
      let answer = '';
      /** @type {NodeJS.Timeout | undefined} */
      let drip;
      let error = /** @type {any} */ (null);
      socket.on('connect', () => {
        openedAt = performance.now();
        t.opened++;
        live.add(socket);
        c.started();
        if (variant === 1) {
          const half = head.subarray(0, Math.floor(head.length / 2));
          socket.write(half);
          t.bytesSent += half.length;
        } else if (variant === 2) {
          let sent = 0;
          drip = setInterval(() => {
            if (sent >= head.length || socket.destroyed) return clearInterval(drip);
            socket.write(head.subarray(sent, sent + 1));
            sent++;
            t.bytesSent++;
          }, 1000);
        }
      });
      socket.on('data', (d) => {
        if (answer.length < 200) answer += d.toString('latin1');
      });
      socket.on('error', (err) => (error = err));
      socket.on('close', () => {
        clearInterval(drip);
        live.delete(socket);
        if (openedAt === 0) return reject(error ?? new Error('closed before connecting'));
        if (!c.stopped()) {
          // What the server said before it hung up, if anything: its status line.
          const eol = answer.indexOf('\r\n');
          const status = (eol >= 0 ? answer.slice(0, eol) : answer).slice(0, 40).trim();
          t.closed(status ? `answered "${status}"` : error?.code ? `${error.code} without an answer` : 'closed without an answer', openedAt);
        }
        resolve(true);
      });
    });
  },

  async meta(c) {
    const { job, t, i } = c;
    const room = job.rooms[i % job.rooms.length];
    return wsConnection(
      c,
      async (ws, ended) => {
        if (!(await Promise.race([joinRoom(ws, room), ended.then(() => false)]))) return false;
        let open = true;
        void ended.then(() => (open = false));
        // Clients start at different variants, so all of them are in flight at any moment.
        for (let k = i; open && !c.stopped(); k++) {
          const v = META_VARIANTS[k % META_VARIANTS.length];
          if (v.rare && Math.floor(k / META_VARIANTS.length) % 4 !== 3) continue;
          await writeFrame(ws.socket, frameParts(v.parts(room)), t);
          await Promise.race([sleep(job.params.metaEveryMs), ended]);
        }
      },
      (ws, f) => countReply(t, ws, f),
    );
  },
};

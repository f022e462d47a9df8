// One load-generator connection and the per-process delivery accounting shared by scenarios.
import { connectRawWs, readClock } from './rawws.mjs';
import { Histogram } from './hist.mjs';

const MARK = Buffer.from('@T');
const OK_FALSE = Buffer.from('"ok":false');
const OP_ERROR = Buffer.from('"op":"error"');

/** Wall-clock microseconds with sub-millisecond resolution; comparable across processes. */
export const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** The marker a published message carries: its send time. */
export const marker = (us = nowUs()) => `@T${us}@`;

export class Client {
  /**
   * @param {Pool} pool
   * @param {string} name
   */
  constructor(pool, name) {
    this.pool = pool;
    this.name = name;
    /** @type {import('./rawws.mjs').RawWs | null} */
    this.ws = null;
    /** The room this client publishes to. */
    this.room = '';
    this.ref = 0;
    /** Marked messages received. */
    this.received = 0;
    /** @type {Array<{ match: (f: string) => boolean, resolve: (f: string) => void }>} */
    this.waiters = [];
    /** Called with every text frame while set (slow path, for the few frames a scenario inspects). */
    /** @type {((f: string) => void) | null} */
    this.tap = null;
    /** @type {string | undefined} roomcast guest token, to come back as the same user */
    this.guest = undefined;
    /** @type {string | undefined} Socket.IO private session id, for connection state recovery */
    this.pid = undefined;
    /** @type {object | undefined} Socket.IO CONNECT payload that asks for recovery */
    this.recover = undefined;
  }

  send(text) {
    this.ws?.send(text);
  }

  /** The next text frame for which `match` holds (frames nobody waits for are dropped). */
  waitFor(match, timeoutMs = 30000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no expected frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (/** @type {string} */ f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.waiters.push(waiter);
    });
  }

  close() {
    this.ws?.close();
  }
}

/** A generator process's connections and what they received. */
export class Pool {
  /**
   * @param {{ port: number, protocol: import('./protocols.mjs').Protocol, socketio: boolean }} o
   */
  constructor(o) {
    this.port = o.port;
    this.protocol = o.protocol;
    this.socketio = o.socketio;
    /** @type {Client[]} */
    this.clients = [];
    this.hist = new Histogram();
    /** Marked deliveries, in total and while `counting`. */
    this.deliveries = 0;
    this.counted = 0;
    this.counting = false;
    /** Latency is recorded for messages sent in [latencyFrom, latencyTo) (µs). */
    this.latencyFrom = Infinity;
    this.latencyTo = Infinity;
    /** Replies and other unmarked frames seen. */
    this.otherFrames = 0;
    this.errors = 0;
    /** @type {string[]} */
    this.errorSamples = [];
    this.closedUnexpectedly = 0;
    /** Unexpected closes by the server's close code ("none" when the socket ended without a close frame). */
    /** @type {Record<string, number>} */
    this.closeCodes = {};
    this.stopping = false;
    /** @type {((c: Client, sentUs: number) => void) | null} scenario hook per marked delivery */
    this.onDelivery = null;
    this.handlers = {
      onMessage: (/** @type {any} */ ws, /** @type {Buffer} */ buf, /** @type {number} */ s, /** @type {number} */ e) => this.frame(ws.state, buf, s, e),
      onClose: (/** @type {any} */ ws, /** @type {Error | undefined} */ err) => {
        if (this.stopping) return;
        this.closedUnexpectedly++;
        const code = ws.closeCode === null ? 'none' : String(ws.closeCode);
        this.closeCodes[code] = (this.closeCodes[code] ?? 0) + 1;
        const why = ws.closeCode === null ? '' : ` with ${ws.closeCode}${ws.closeReason ? ` (${ws.closeReason})` : ''}`;
        this.error(`${ws.state.name}: connection closed${why}${err ? `: ${err.message}` : ''}`);
      },
    };
  }

  error(text) {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(text.slice(0, 300));
  }

  /** The hot path: one frame from the server. */
  frame(/** @type {Client} */ c, /** @type {Buffer} */ buf, /** @type {number} */ s, /** @type {number} */ e) {
    const m = buf.indexOf(MARK, s);
    if (m >= 0 && m < e) {
      let t = 0;
      for (let i = m + 2; i < e; i++) {
        const ch = buf[i];
        if (ch < 48 || ch > 57) break;
        t = t * 10 + (ch - 48);
      }
      c.received++;
      this.deliveries++;
      if (this.counting) this.counted++;
      if (t >= this.latencyFrom && t < this.latencyTo) this.hist.record(readClock.us - t);
      if (this.onDelivery !== null) this.onDelivery(c, t);
      if (c.tap !== null) c.tap(buf.toString('utf8', s, e));
      return;
    }
    this.otherFrames++;
    // Engine.IO heartbeat.
    if (this.socketio && e - s === 1 && buf[s] === 0x32) return c.send('3');
    if (c.waiters.length > 0 || c.tap !== null) {
      const f = buf.toString('utf8', s, e);
      if (c.tap !== null) c.tap(f);
      const i = c.waiters.findIndex((w) => w.match(f));
      if (i >= 0) {
        const [w] = c.waiters.splice(i, 1);
        w.resolve(f);
        return;
      }
    }
    const ok = buf.indexOf(OK_FALSE, s);
    const er = ok >= 0 && ok < e ? ok : buf.indexOf(OP_ERROR, s);
    if (er >= 0 && er < e) this.error(buf.toString('utf8', s, Math.min(e, s + 300)));
  }

  /** Opens one connection and waits for the server's greeting. */
  async connect(name, prepare = (/** @type {Client} */ _c) => {}) {
    const c = new Client(this, name);
    prepare(c);
    const greeting = this.protocol.greeting ? c.waitFor(this.protocol.greeting) : Promise.resolve(null);
    greeting.catch(() => {}); // awaited below; a failed upgrade must not leave it unhandled
    c.ws = await connectRawWs({ port: this.port, path: this.protocol.path(name, c), handlers: this.handlers, state: c });
    this.clients.push(c);
    await this.protocol.opened(c, await greeting);
    return c;
  }

  /** Runs `fn(i)` for i in [0, n) with at most `concurrency` at a time. */
  static async parallel(n, concurrency, fn) {
    let next = 0;
    const worker = async () => {
      while (next < n) await fn(next++);
    };
    await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  }

  closeAll() {
    this.stopping = true;
    for (const c of this.clients) c.close();
  }
}

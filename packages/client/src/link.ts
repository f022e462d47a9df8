// A long module on purpose: the connection lifecycle is one state machine (attempts, welcome,
// drops, backoff, network hints), and splitting it would spread its state over several files.
import { CloseCode, SUBPROTOCOL, type ServerEvent, type UserRef, type WelcomeEvent } from '@roomcast/protocol';
import { backoffDelay } from './backoff.js';
import { closeAction } from './close-policy.js';
import type { Emitter } from './emitter.js';
import { RoomcastError, codeForClose } from './errors.js';
import { parseFrame } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { pickNetwork, type NetworkWatcher } from './network.js';
import { pickSocketFactory, type ResolvedOptions } from './options.js';
import { Pacer } from './pacer.js';
import { Requests } from './requests.js';
import type { Socket, SocketFactory } from './socket.js';
import { cancel, later, now, type TimerHandle } from './timers.js';
import type { ClientEvents, ConnectionState } from './types.js';
import { socketUrl } from './url.js';

/** What the link tells the client it serves. */
export interface LinkOwner {
  /** A connection said welcome. Re-join rooms here: the waiting requests are replayed right after. */
  welcomed(welcome: WelcomeEvent): void;
  /** The waiting requests went out after `welcomed`: background requests (a file key) go after them. */
  replayed(): void;
  /** A frame on a welcomed connection, other than a `reply` or an `error`. */
  received(frame: ServerEvent, payload: Uint8Array | undefined): void;
  /** The connection ended (another attempt may follow): what was in flight is void. */
  lost(): void;
  /** Stopped for good (`close()` or a refusal); the pending requests failed with `error`. */
  stopped(error: RoomcastError): void;
}

/** One connection attempt and, after `welcome`, its writer and heartbeat. */
interface Connection {
  socket: Socket | null;
  welcomed: boolean;
  pacer: Pacer | null;
  heartbeat: Heartbeat | null;
  /** The connect timeout, until `welcome`. */
  timer: TimerHandle | undefined;
  /** Dialed while the device said it was offline: redialed as soon as it is back. */
  dialedOffline: boolean;
}

interface Cause {
  code: number;
  reason: string;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The connection lifecycle: one attempt at a time, reconnecting with backoff until `close()` or
 * a refusal that retrying cannot fix, tokens and guest identity, `welcome`, heartbeat. One state
 * function (`setState`), one way a connection ends (`drop`), one way to stop (`stop`). It owns
 * the requests waiting for replies, since a connection's end decides what becomes of them.
 */
export class Link {
  readonly requests: Requests;
  private readonly factory: SocketFactory;
  private current: ConnectionState = 'disconnected';
  /** The app wants a connection (connect() called, no close() or refusal for good since). */
  private running = false;
  private conn: Connection | null = null;
  /** Bumped by every attempt and every stop: callbacks of older ones compare and bow out. */
  private gen = 0;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private readonly network: NetworkWatcher | null;
  private unwatch: (() => void) | null = null;
  /** The device said it went offline and has not said it is back. */
  private offline = false;
  private token: string | undefined;
  private tokenStale = false;
  private guest: string | undefined;
  private me: UserRef | null = null;
  private serverLimits: WelcomeEvent['limits'] | null = null;
  private waiters: Array<{ resolve: () => void; reject: (e: RoomcastError) => void }> = [];

  constructor(
    private readonly url: string,
    private readonly opts: ResolvedOptions,
    private readonly events: Emitter<ClientEvents>,
    private readonly owner: LinkOwner,
  ) {
    socketUrl(url, {}); // refuses a malformed URL now rather than on every reconnect
    this.token = opts.token;
    this.guest = opts.guestToken;
    this.requests = new Requests(opts.outboxLimit, opts.requestTimeout);
    this.factory = pickSocketFactory(opts);
    this.network = pickNetwork(opts.network);
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Who the server says we are (from the latest `welcome`). */
  get user(): UserRef | null {
    return this.me;
  }

  get guestToken(): string | undefined {
    return this.guest;
  }

  /** The server's limits from the latest `welcome`. */
  get limits(): WelcomeEvent['limits'] | null {
    return this.serverLimits;
  }

  /** The token the server knows us by (a JWT, else the guest token): file URLs use it only on servers without file keys. */
  get credential(): string | undefined {
    return this.token ?? this.guest;
  }

  /** A welcomed connection is up. */
  get connected(): boolean {
    return this.conn?.welcomed === true;
  }

  /** Starts connecting (and reconnecting); resolves once connected. See `RoomcastClient.connect`. */
  connect(): Promise<void> {
    if (this.current === 'connected') return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) {
      this.running = true;
      this.requests.refusing = null;
      this.attempt = 0;
      this.watchNetwork();
      this.open();
    }
    return done;
  }

  close(): void {
    this.stop(new RoomcastError('closed', 'the client was closed; call connect() to start again'), { code: CloseCode.Normal, reason: 'closed by the client' });
  }

  /** A frame without a reply (typing, ping): only while connected, never queued. */
  fire(body: Record<string, unknown>): void {
    const c = this.conn;
    if (c?.welcomed && c.pacer) c.pacer.push(JSON.stringify(body));
  }

  report(error: RoomcastError, room?: string): void {
    this.events.emit('error', room === undefined ? { error } : { error, room });
  }

  // ---- one state function, one way in, one way out ------------------------------------------------

  private setState(next: ConnectionState, cause?: Cause, retryAt?: number): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    const ctx: ClientEvents['state'] = cause ? { state: next, previous, code: cause.code, reason: cause.reason } : { state: next, previous };
    if (retryAt !== undefined) ctx.retryAt = retryAt;
    this.events.emit('state', ctx);
  }

  /** One connection attempt: a fresh token if needed, then the socket. */
  private open(): void {
    const gen = ++this.gen;
    this.setState('connecting');
    const getToken = this.opts.getToken;
    if (!getToken || (this.token !== undefined && !this.tokenStale)) {
      this.dial(gen);
      return;
    }
    Promise.resolve()
      .then(getToken)
      .then(
        (token) => {
          if (gen !== this.gen || !this.running) return;
          this.token = token;
          this.tokenStale = false;
          this.dial(gen);
        },
        (err: unknown) => {
          if (gen !== this.gen || !this.running) return;
          this.report(new RoomcastError('unauthorized', `getToken() failed (${describe(err)}); retrying with backoff`));
          this.announceRetry(this.scheduleReconnect());
        },
      );
  }

  private dial(gen: number): void {
    const params: Record<string, string | undefined> = this.token ? { token: this.token } : { name: this.opts.name, guest: this.guest };
    const c: Connection = { socket: null, welcomed: false, pacer: null, heartbeat: null, timer: undefined, dialedOffline: this.offline };
    this.conn = c;
    c.timer = later(() => this.drop(c, { code: 4000, reason: `no welcome within ${this.opts.connectTimeout} ms` }, true), this.opts.connectTimeout);
    try {
      c.socket = this.factory(socketUrl(this.url, params), [SUBPROTOCOL], {
        onOpen: () => {},
        onMessage: (data) => {
          if (this.conn === c && gen === this.gen) this.onData(c, data);
        },
        onClose: (code, reason) => this.drop(c, { code, reason }),
        onError: (message) => this.drop(c, { code: 1006, reason: message }),
      });
    } catch (err) {
      this.drop(c, { code: 1006, reason: `could not open a socket: ${describe(err)}` });
    }
  }

  /** The only way a connection ends: clean up, then reconnect unless that cannot help. */
  private drop(c: Connection, cause: Cause, dead = false): void {
    if (this.conn !== c) return;
    this.conn = null;
    this.teardown(c, dead ? 'terminate' : 'close', cause.reason);
    if (!this.running) return;
    const fatal = this.judgeClose(cause);
    if (fatal) {
      this.stop(fatal, cause);
      return;
    }
    const retryAt = this.scheduleReconnect();
    this.setState('connecting', cause, retryAt);
    this.announceRetry(retryAt);
  }

  private teardown(c: Connection, how: 'close' | 'terminate' | 'normal', reason: string): void {
    cancel(c.timer);
    c.heartbeat?.stop();
    c.pacer?.stop();
    try {
      if (how === 'terminate' && c.socket?.terminate) c.socket.terminate();
      else c.socket?.close(how === 'normal' ? CloseCode.Normal : 4000, reason);
    } catch {
      // The socket is being abandoned; nothing useful to do with its complaint.
    }
    this.requests.detach();
    this.owner.lost();
  }

  /** Applies the close policy; returns the error that ends reconnecting, if it does. */
  private judgeClose({ code, reason }: Cause): RoomcastError | null {
    const action = closeAction(code, { getToken: this.opts.getToken !== undefined, token: this.token !== undefined, guestToken: this.guest !== undefined });
    switch (action) {
      case 'retry':
        return null;
      case 'refresh-token':
        this.tokenStale = true;
        this.report(new RoomcastError('unauthorized', `the server refused or expired the token (${reason}); getting a new one from getToken()`, code));
        return null;
      case 'new-guest':
        this.guest = undefined;
        this.report(new RoomcastError('unauthorized', `the server did not accept the guest token (${reason}); continuing as a new guest`, code));
        return null;
      case 'stop':
        return new RoomcastError(codeForClose(code), `the server refused the connection (${code}): ${reason}${this.token && !this.opts.getToken ? '; pass getToken to supply fresh tokens' : ''}`, code);
    }
  }

  /** Arms the one reconnect timer (never two attempts at once); returns when it fires, if it was armed. */
  private scheduleReconnect(): number | undefined {
    if (this.reconnectTimer !== undefined || !this.running) return undefined;
    const delay = backoffDelay(this.attempt++, { minDelay: this.opts.minReconnectDelay, maxDelay: this.opts.maxReconnectDelay }, this.opts.random);
    this.reconnectTimer = later(() => {
      this.reconnectTimer = undefined;
      if (this.running && !this.conn) this.open();
    }, delay);
    return now() + delay;
  }

  /** Reports an armed retry on `retry`, unless a `state` listener already stopped it. */
  private announceRetry(retryAt: number | undefined): void {
    if (retryAt !== undefined && this.reconnectTimer !== undefined) this.events.emit('retry', { retryAt });
  }

  /** Stops for good (close() or a refusal): fails everything pending with `error`. */
  private stop(error: RoomcastError, cause: Cause): void {
    this.running = false;
    this.requests.refusing = error;
    this.gen++;
    cancel(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.unwatch?.();
    this.unwatch = null;
    const c = this.conn;
    this.conn = null;
    if (c) this.teardown(c, 'normal', cause.reason);
    this.requests.failAll(error);
    this.owner.stopped(error);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
    if (error.code !== 'closed') this.report(error);
    this.setState('disconnected', cause);
  }

  private onWelcome(c: Connection, w: WelcomeEvent): void {
    cancel(c.timer);
    c.timer = undefined;
    c.welcomed = true;
    this.me = w.user;
    if (w.guestToken) this.guest = w.guestToken;
    this.serverLimits = w.limits;
    // The resume burst lets the re-joins and the queued sends below go out at once.
    c.pacer = new Pacer(w.limits.ratePerSec, (frame) => {
      try {
        c.socket?.send(frame);
      } catch (err) {
        // Not from inside the caller's stack: the connection is replaced on the next turn.
        later(() => this.drop(c, { code: 1006, reason: `send failed: ${describe(err)}` }), 0);
      }
    }, w.limits.resumeBurst ?? 0);
    const interval = this.opts.heartbeat ?? w.heartbeat;
    c.heartbeat = new Heartbeat(
      interval,
      () => this.fire({ op: 'ping' }),
      () => this.drop(c, { code: 4000, reason: `nothing received for ${2 * interval} ms` }, true),
    );
    // A welcome proves the server works: the next loss starts again from the shortest delay,
    // even if the server keeps dying (each death costs the client one short, jittered wait).
    this.attempt = 0;
    this.requests.attach(c.pacer);
    // Re-joins first, so every room is live again before the replayed sends are answered.
    this.owner.welcomed(w);
    for (const e of this.requests.outbox.list()) {
      const problem = e.recheck?.();
      if (problem) e.fail(problem);
    }
    this.requests.replay();
    this.owner.replayed();
    this.setState('connected');
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  // ---- network hints (network.ts) ----------------------------------------------------------------

  private watchNetwork(): void {
    if (!this.network || this.unwatch) return;
    this.unwatch = this.network({ offline: () => this.wentOffline(), online: () => this.cameBack() });
  }

  /** The device went offline: drop the connection now rather than after two silent heartbeats. */
  private wentOffline(): void {
    this.offline = true;
    const c = this.conn;
    if (this.running && c) this.drop(c, { code: 1006, reason: 'the device went offline' }, true);
  }

  /** The network or the page is back: dial now instead of waiting out the backoff. */
  private cameBack(): void {
    const wasOffline = this.offline;
    this.offline = false;
    if (!this.running) return;
    const c = this.conn;
    if (c?.welcomed) {
      // A connection that survived a sleep may still be dead: a ping's answer (or the
      // heartbeat, which counts from the last frame received) settles it soon.
      this.fire({ op: 'ping' });
      return;
    }
    // An attempt begun while online is left to finish; one begun offline is likely stuck.
    if (c && !(wasOffline || c.dialedOffline)) return;
    cancel(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (c) {
      this.conn = null;
      this.teardown(c, 'terminate', 'redialing: the network is back');
    }
    this.attempt = 0;
    this.open();
  }

  private onData(c: Connection, data: string | Uint8Array): void {
    c.heartbeat?.touch();
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      if (parsed.error) this.report(parsed.error);
      return;
    }
    const f = parsed.frame;
    if (!c.welcomed) {
      if (f.op === 'welcome') this.onWelcome(c, f);
      else if (f.op === 'error') this.report(RoomcastError.fromBody(f.error));
      return;
    }
    if (f.op === 'reply') this.requests.settle(f.ref, f);
    else if (f.op === 'error') this.report(RoomcastError.fromBody(f.error));
    else this.owner.received(f, parsed.payload);
  }
}

import { CloseCode, SUBPROTOCOL, type RoomSummary, type UserRef, type WelcomeEvent } from '@roomcast/protocol';
import { backoffDelay } from './backoff.js';
import { Emitter, type Listener } from './emitter.js';
import { closeAction } from './close-policy.js';
import { RoomcastError, codeForClose, isTransient } from './errors.js';
import { parseFrame } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { newClientId } from './ids.js';
import { DIRECT_PREFIX, toMessage } from './messages.js';
import type { Message } from './messages.js';
import { resolveOptions, pickWebSocket, type ClientOptions, type ResolvedOptions } from './options.js';
import type { OutboxEntry } from './outbox.js';
import { Pacer } from './pacer.js';
import { Requests } from './requests.js';
import { Room, type RoomHost } from './room.js';
import { checkContent, encodeSend, ownMessage, sendResult } from './sends.js';
import { webSocketFactory, type Socket, type SocketFactory } from './socket.js';
import { cancel, later, type TimerHandle } from './timers.js';
import type { BinaryOptions, ClientEvents, ClientStats, ConnectionState, CreateOptions, DmResult, JoinOptions, PostContent, SendOptions, SendResult } from './types.js';
import { httpOrigin, socketUrl } from './url.js';

/** One connection attempt and, after `welcome`, its writer and heartbeat. */
interface Connection {
  socket: Socket | null;
  welcomed: boolean;
  pacer: Pacer | null;
  heartbeat: Heartbeat | null;
  /** The connect timeout, until `welcome`. */
  timer: TimerHandle | undefined;
}

interface Cause {
  code: number;
  reason: string;
}

/** Pause before resending a send the server refused for now (rate limit). */
const RETRY_MS = 1000;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A roomcast connection that survives the network: it reconnects with backoff, re-joins rooms
 * from the last seq it saw, replays unacknowledged sends with their ids, and delivers every
 * message of a room once, in order.
 *
 * @example
 * const chat = new RoomcastClient('wss://chat.example.com/ws', { name: 'Alice' });
 * await chat.connect();
 * const room = await chat.join('lobby');
 * room.on('message', (m) => console.log(m.from.name, m.text));
 * await room.send('hi');
 */
export class RoomcastClient {
  /** Counters since construction. */
  readonly stats: ClientStats = { sent: 0, acknowledged: 0, delivered: 0, duplicates: 0, reconnects: 0, gapsFilled: 0 };

  private readonly events = new Emitter<ClientEvents>();
  private readonly opts: ResolvedOptions;
  private readonly factory: SocketFactory;
  private readonly followed = new Map<string, Room>();
  private readonly requests: Requests;
  private current: ConnectionState = 'disconnected';
  /** The app wants a connection (connect() called, no close() or refusal for good since). */
  private running = false;
  private conn: Connection | null = null;
  /** Bumped by every attempt and every stop: callbacks of older ones compare and bow out. */
  private gen = 0;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private stableTimer: TimerHandle | undefined;
  private token: string | undefined;
  private tokenStale = false;
  private guest: string | undefined;
  private me: UserRef | null = null;
  private limits: WelcomeEvent['limits'] | null = null;
  private summaries = new Map<string, RoomSummary>();
  private everConnected = false;
  private waiters: Array<{ resolve: () => void; reject: (e: RoomcastError) => void }> = [];
  private readonly host: RoomHost = this.makeHost();

  /**
   * @param url the server: `wss://HOST/ws`, `ws://HOST:PORT/ws`, or just `https://HOST`.
   */
  constructor(
    readonly url: string,
    options: ClientOptions = {},
  ) {
    this.opts = resolveOptions(options);
    socketUrl(url, {}); // refuses a malformed URL now rather than on every reconnect
    this.token = options.token;
    this.guest = options.guestToken;
    this.requests = new Requests(this.opts.outboxLimit, this.opts.requestTimeout);
    if (options.socket) {
      this.factory = options.socket;
    } else {
      const ws = pickWebSocket(options);
      if (!ws) {
        throw new RoomcastError(
          'bad_request',
          'no WebSocket implementation: in Node pass { WebSocket } from the "ws" package; in a mini program pass { socket: wxSocket(wx) }',
        );
      }
      this.factory = webSocketFactory(ws);
    }
  }

  /** `connecting` (also while waiting to retry), `connected`, or `disconnected` (not started, closed, or refused for good). */
  get state(): ConnectionState {
    return this.current;
  }

  /** Who the server says we are (from the latest `welcome`). */
  get user(): UserRef | null {
    return this.me;
  }

  /** The guest token to store and pass as `guestToken` next time, to stay the same guest. */
  get guestToken(): string | undefined {
    return this.guest;
  }

  /** Server limits from the latest `welcome` (text length, binary size, rate). */
  get serverLimits(): WelcomeEvent['limits'] | null {
    return this.limits;
  }

  /** Adds a listener; returns its unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Starts connecting (and reconnecting, until `close()`). Resolves once connected; a failed
   * attempt is retried with backoff, each failure reported on `error`. Rejects only when the
   * server refuses for good (bad parameters, forbidden, a static token refused) or on `close()`.
   */
  connect(): Promise<void> {
    if (this.current === 'connected') return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) {
      this.running = true;
      this.requests.refusing = null;
      this.attempt = 0;
      this.open();
    }
    return done;
  }

  /** Closes the connection and stops reconnecting. Pending sends and requests fail with `closed`. */
  close(): void {
    this.stop(new RoomcastError('closed', 'the client was closed; call connect() to start again'), { code: CloseCode.Normal, reason: 'closed by the client' });
  }

  /** Creates a room (you become its owner and a member) and joins it. */
  create(options: CreateOptions = {}): Promise<Room> {
    return new Promise((resolve, reject) =>
      this.requests.call({ op: 'create', ...options }, 'reject', true, (err, reply) => {
        if (!reply) return reject(err);
        // Set up before the next frame is read: the room may be written to at once.
        const id = String((reply.room as { id: string }).id);
        const room = new Room(this.host, id);
        this.followed.set(id, room);
        room.created(reply);
        resolve(room);
      }),
    );
  }

  /**
   * Joins a room and keeps it joined across reconnects. Resolves once the server accepted; the
   * recent history (or, with `since`, everything after it) then arrives on `message`, in order.
   */
  join(id: string, options: JoinOptions = {}): Promise<Room> {
    let room = this.followed.get(id);
    if (!room) {
      room = new Room(this.host, id);
      this.followed.set(id, room);
    }
    return room.want(options);
  }

  /** A room this client follows (joined, or a direct conversation seen), by id. */
  room(id: string): Room | undefined {
    return this.followed.get(id);
  }

  /** Sends a direct message to a user id; the conversation's messages arrive on `dm`. */
  dm(to: string, text: string, options: SendOptions = {}): Promise<DmResult> {
    return this.post({ to }, { ...options, text }) as Promise<DmResult>;
  }

  /** Sends bytes as a direct message. */
  dmBinary(to: string, data: Uint8Array | ArrayBuffer, options: BinaryOptions): Promise<DmResult> {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return this.post({ to }, { ...options, data: bytes }) as Promise<DmResult>;
  }

  /**
   * Your rooms with unread counts (`mine`, the default: all of them, page after page), or the
   * first page of public rooms to discover (the 100 most active).
   */
  async rooms(scope: 'mine' | 'public' = 'mine'): Promise<RoomSummary[]> {
    const all: RoomSummary[] = [];
    let cursor: string | undefined;
    do {
      const r = await this.requests.request({ op: 'rooms', scope, ...(cursor ? { cursor } : {}) }, 'resend', true);
      if (Array.isArray(r.rooms)) all.push(...(r.rooms as RoomSummary[]));
      cursor = scope === 'mine' && typeof r.next === 'string' ? r.next : undefined;
    } while (cursor);
    return all;
  }

  /** A full URL for a binary message's bytes (it carries your token: don't share it), or null. */
  fileUrl(message: Message): string | null {
    const path = message.binary?.url;
    const token = this.token ?? this.guest;
    if (!path || !token) return null;
    return `${httpOrigin(this.url)}${path}?token=${encodeURIComponent(token)}`;
  }

  // ---- connection lifecycle: one state function, one way in, one way out --------------------------

  private setState(next: ConnectionState, cause?: Cause): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    this.events.emit('state', cause ? { state: next, previous, code: cause.code, reason: cause.reason } : { state: next, previous });
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
          this.scheduleReconnect();
        },
      );
  }

  private dial(gen: number): void {
    const params: Record<string, string | undefined> = this.token ? { token: this.token } : { name: this.opts.name, guest: this.guest };
    const c: Connection = { socket: null, welcomed: false, pacer: null, heartbeat: null, timer: undefined };
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
    this.setState('connecting', cause);
    this.scheduleReconnect();
  }

  private teardown(c: Connection, how: 'close' | 'terminate' | 'normal', reason: string): void {
    cancel(c.timer);
    c.heartbeat?.stop();
    c.pacer?.stop();
    cancel(this.stableTimer);
    try {
      if (how === 'terminate' && c.socket?.terminate) c.socket.terminate();
      else c.socket?.close(how === 'normal' ? CloseCode.Normal : 4000, reason);
    } catch {
      // The socket is being abandoned; nothing useful to do with its complaint.
    }
    this.requests.detach();
    for (const room of this.followed.values()) room.disconnected();
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

  /** Arms the one reconnect timer (never two attempts at once). */
  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined || !this.running) return;
    const delay = backoffDelay(this.attempt++, { minDelay: this.opts.minReconnectDelay, maxDelay: this.opts.maxReconnectDelay }, this.opts.random);
    this.reconnectTimer = later(() => {
      this.reconnectTimer = undefined;
      if (this.running && !this.conn) this.open();
    }, delay);
  }

  /** Stops for good (close() or a refusal): fails everything pending with `error`. */
  private stop(error: RoomcastError, cause: Cause): void {
    this.running = false;
    this.requests.refusing = error;
    this.gen++;
    cancel(this.reconnectTimer);
    this.reconnectTimer = undefined;
    cancel(this.stableTimer);
    const c = this.conn;
    this.conn = null;
    if (c) this.teardown(c, 'normal', cause.reason);
    this.requests.failAll(error);
    for (const room of this.followed.values()) room.stopped(error);
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
    if (this.everConnected) this.stats.reconnects++;
    this.everConnected = true;
    this.me = w.user;
    if (w.guestToken) this.guest = w.guestToken;
    this.limits = w.limits;
    this.summaries = new Map(w.rooms.map((r) => [r.id, r]));
    c.pacer = new Pacer(w.limits.ratePerSec, (frame) => {
      try {
        c.socket?.send(frame);
      } catch (err) {
        // Not from inside the caller's stack: the connection is replaced on the next turn.
        later(() => this.drop(c, { code: 1006, reason: `send failed: ${describe(err)}` }), 0);
      }
    });
    const interval = this.opts.heartbeat ?? w.heartbeat;
    c.heartbeat = new Heartbeat(
      interval,
      () => this.fire({ op: 'ping' }),
      () => this.drop(c, { code: 4000, reason: `nothing received for ${2 * interval} ms` }, true),
    );
    cancel(this.stableTimer);
    this.stableTimer = later(() => (this.attempt = 0), this.opts.stableAfter);
    this.requests.attach(c.pacer);
    // Re-joins first, so every room is live again before the replayed sends are answered.
    for (const room of [...this.followed.values()]) room.resume(this.summaries.get(room.id)?.lastSeq);
    // Direct messages that came while we were away, for `dm` listeners.
    for (const s of w.rooms) {
      if (s.direct && !this.followed.has(s.id) && (s.unread ?? 0) > 0) this.follow(s.id, s.readSeq ?? s.lastSeq).resume(s.lastSeq);
    }
    for (const e of this.requests.outbox.list()) {
      const problem = e.recheck?.();
      if (problem) e.fail(problem);
    }
    this.requests.replay();
    this.setState('connected');
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  // ---- frames in ------------------------------------------------------------------------------------

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
    switch (f.op) {
      case 'reply':
        this.requests.settle(f.ref, f);
        return;
      case 'msg': {
        let room = this.followed.get(f.room);
        if (!room) {
          // The server attaches us to a direct conversation by itself when someone writes.
          if (!f.room.startsWith(DIRECT_PREFIX)) return;
          room = this.follow(f.room, f.seq - 1);
          room.resume(undefined);
        }
        room.receive(toMessage(f, this.me?.id ?? null, parsed.payload));
        return;
      }
      case 'presence':
        this.followed.get(f.room)?.presence(f);
        return;
      case 'typing':
        this.followed.get(f.room)?.typingEvent(f);
        return;
      case 'room':
        this.followed.get(f.room.id)?.changed(f.room);
        return;
      case 'error':
        this.report(RoomcastError.fromBody(f.error));
        return;
      default:
        return; // pong, and ops added to the protocol later
    }
  }

  /** Starts following a direct conversation for `dm` listeners, positioned before `seq + 1`. */
  private follow(id: string, before: number): Room {
    const known = this.summaries.get(id)?.lastSeq;
    const room = new Room(this.host, id, known !== undefined && known < before ? known : before);
    this.followed.set(id, room);
    return room;
  }

  // ---- frames out -------------------------------------------------------------------------------------

  /** A frame without a reply (typing, ping): only while connected, never queued. */
  private fire(body: Record<string, unknown>): void {
    const c = this.conn;
    if (c?.welcomed && c.pacer) c.pacer.push(JSON.stringify(body));
  }

  /** A send or dm through the outbox: written now if connected, else after the reconnect. */
  private post(target: { room: Room } | { to: string }, content: PostContent): Promise<SendResult & { online?: boolean }> {
    return new Promise((resolve, reject) => {
      if (this.requests.refusing) return reject(this.requests.refusing);
      const problem = checkContent(content, this.limits);
      if (problem) return reject(problem);
      const ref = this.requests.newRef();
      const id = newClientId();
      const direct = 'to' in target;
      const entry: OutboxEntry = {
        ref,
        id,
        frame: encodeSend(direct ? { to: target.to } : { room: target.room.id }, ref, id, content),
        onDrop: 'resend',
        queued: false,
        sent: false,
        recheck: () => checkContent(content, this.limits),
        settle: (reply) => {
          if (!reply.ok) {
            if (isTransient(reply.error.code) && !this.requests.refusing) {
              // Same frame, same id, after a pause: the server stores it once however it goes.
              entry.queued = entry.sent = false;
              later(() => {
                if (this.requests.outbox.get(ref) === entry) this.requests.transmit(entry);
              }, RETRY_MS);
              return;
            }
            this.requests.outbox.delete(ref);
            reject(RoomcastError.fromBody(reply.error));
            return;
          }
          this.requests.outbox.delete(ref);
          this.stats.acknowledged++;
          const result = sendResult(reply, id);
          this.acknowledged(result, content, direct);
          resolve(result);
        },
        fail: (err) => {
          this.requests.outbox.delete(ref);
          reject(err);
        },
      };
      try {
        this.requests.enqueue(entry);
      } catch (err) {
        reject(err);
        return;
      }
      this.stats.sent++;
    });
  }

  /** Our stored message takes its seq in the room's sequence, like anyone else's. */
  private acknowledged(r: SendResult, content: PostContent, direct: boolean): void {
    let room = this.followed.get(r.room);
    if (!room && direct) {
      room = this.follow(r.room, r.seq - 1);
      room.resume(undefined);
    }
    room?.acknowledged(ownMessage(r, content, this.me, direct));
  }

  private report(error: RoomcastError, room?: string): void {
    this.events.emit('error', room === undefined ? { error } : { error, room });
  }

  /** What rooms see of the client. */
  private makeHost(): RoomHost {
    const client = this;
    return {
      get userId() {
        return client.me?.id ?? null;
      },
      get connected() {
        return client.conn?.welcomed === true;
      },
      get epoch() {
        return client.gen;
      },
      get historyCount() {
        return client.opts.history;
      },
      get typingInterval() {
        return client.opts.typingInterval;
      },
      get requestTimeout() {
        return client.opts.requestTimeout;
      },
      request: (body, onDrop, timeout) => this.requests.request(body, onDrop, timeout),
      call: (body, onDrop, timeout, done) => this.requests.call(body, onDrop, timeout, done),
      post: (room, content) => this.post({ room }, content),
      fire: (body) => this.fire(body),
      forget: (room) => {
        if (this.followed.get(room.id) === room) this.followed.delete(room.id);
      },
      delivered: (m) => {
        this.stats.delivered++;
        if (m.direct) this.events.emit('dm', m);
      },
      duplicate: () => {
        this.stats.duplicates++;
      },
      filled: (n) => {
        this.stats.gapsFilled += n;
      },
      report: (error, room) => this.report(error, room),
    };
  }
}

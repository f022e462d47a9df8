import { RoomcastError } from './errors.js';
import { Outbox, type OutboxEntry, type Pending, type Reply } from './outbox.js';
import type { Pacer } from './pacer.js';
import { cancel, later, type TimerHandle } from './timers.js';

export type ReplyHandler = (error: RoomcastError | null, reply: Record<string, unknown> | null) => void;

/**
 * Requests waiting for their `reply`, and the outbox of sends: which connection they were
 * written to, and what becomes of them when that connection goes (replayed in order on the
 * next one, or failed when repeating them could act twice).
 */
export class Requests {
  readonly outbox: Outbox;
  /** Why new requests are refused right now (after close() or a refusal for good), else null. */
  refusing: RoomcastError | null = null;
  private readonly waiting = new Map<number, Pending>();
  private nextRef = 1;
  /** The current connection's writer, from its `welcome` until it ends. */
  private writer: Pacer | null = null;

  constructor(
    outboxLimit: number,
    private readonly timeoutMs: number,
  ) {
    this.outbox = new Outbox(outboxLimit);
  }

  newRef(): number {
    return this.nextRef++;
  }

  /** A connection is ready: new requests go out at once (call `replay` for the waiting ones). */
  attach(writer: Pacer): void {
    this.writer = writer;
  }

  /** Writes the waiting sends and requests, in the order they were made. */
  replay(): void {
    const all: Pending[] = [...this.outbox.list(), ...this.waiting.values()].sort((a, b) => a.ref - b.ref);
    for (const p of all) this.transmit(p);
  }

  /** The connection ended: keep what can be replayed, fail what cannot. */
  detach(): void {
    this.writer = null;
    for (const e of this.outbox.list()) e.queued = e.sent = false;
    for (const p of [...this.waiting.values()]) {
      const sent = p.sent;
      p.queued = p.sent = false;
      if (p.onDrop === 'forget') p.fail(new RoomcastError('disconnected', 'the connection dropped'));
      else if (p.onDrop === 'reject' && sent) {
        p.fail(new RoomcastError('disconnected', 'the connection dropped before the server answered; the request may or may not have taken effect'));
      }
    }
  }

  /** Hands a request to the current connection, once per connection. */
  transmit(p: Pending): void {
    if (!this.writer || p.queued) return;
    p.queued = true;
    this.writer.push(p.frame, () => (p.sent = true));
  }

  /**
   * Sends a request; `done` runs synchronously with its reply (or failure). Synchronous on
   * purpose: frames that follow a reply in the same network read are handled right after it,
   * so a join's position must be set before its backlog is looked at, not a microtask later.
   */
  call(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean, done: ReplyHandler): void {
    if (this.refusing) return done(this.refusing, null);
    const ref = this.newRef();
    let timer: TimerHandle | undefined;
    const p: Pending = {
      ref,
      frame: JSON.stringify({ ...body, ref }),
      onDrop,
      queued: false,
      sent: false,
      settle: (reply) => {
        cancel(timer);
        this.waiting.delete(ref);
        if (reply.ok) done(null, reply);
        else done(RoomcastError.fromBody(reply.error), null);
      },
      fail: (err) => {
        cancel(timer);
        this.waiting.delete(ref);
        done(err, null);
      },
    };
    if (timeout) {
      const ms = this.timeoutMs;
      timer = later(() => p.fail(new RoomcastError('timeout', `no answer to "${String(body.op)}" within ${ms} ms; check the connection and retry`)), ms);
    }
    this.waiting.set(ref, p);
    this.transmit(p);
  }

  /** `call` as a promise, for requests whose reply nothing else depends on. */
  request(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => this.call(body, onDrop, timeout, (err, reply) => (err ? reject(err) : resolve(reply as Record<string, unknown>))));
  }

  /** Queues a send (throws `outbox_full`) and writes it if connected. */
  enqueue(entry: OutboxEntry): void {
    this.outbox.add(entry);
    this.transmit(entry);
  }

  /** Routes a `reply` to its request; a reply to one already given up on changes nothing. */
  settle(ref: unknown, reply: Reply): void {
    if (typeof ref !== 'number') return;
    (this.waiting.get(ref) ?? this.outbox.get(ref))?.settle(reply);
  }

  /** Fails every send and request (the client stopped). */
  failAll(error: RoomcastError): void {
    this.outbox.failAll(error);
    for (const p of [...this.waiting.values()]) p.fail(error);
  }
}

import { MAX_HISTORY_PAGE } from '@roomcast/protocol';
import { isTransient, RETRY_AFTER_MS, RoomcastError } from './errors.js';
import { isMsgEvent, toMessage, type Message } from './messages.js';
import type { Pending } from './outbox.js';
import type { ReplyHandler } from './requests.js';
import { Sequencer } from './sequencer.js';
import { cancel, later, type TimerHandle } from './timers.js';
import type { ClientStats } from './types.js';

/** @internal What a Feed needs from its client: history over the current connection, counters, and where to report. */
export interface FeedLink {
  /** The signed-in user's id: their messages are `mine`. */
  readonly userId: string | null;
  /** A welcomed connection is up. */
  readonly connected: boolean;
  readonly stats: Pick<ClientStats, 'duplicates' | 'gapsFilled'>;
  /** A request whose reply is handled synchronously (before the next frame is read). */
  call(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean, done: ReplyHandler): void;
  /** An error no promise reports, for the client's `error` event. */
  report(error: RoomcastError, room: string): void;
}

/**
 * @internal One room's messages on their way to the app: in seq order and each once (the
 * Sequencer), held until the app's listeners are attached after `await join()`, and with a gap
 * seen live filled from history. The Room drives it: where to start, joined, disconnected, ended.
 */
export class Feed {
  private readonly seq: Sequencer<Message>;
  /** Whether `seq` has a real position yet (a first join without `since` learns it from the reply). */
  private hasPosition: boolean;
  /** Joined (or, for a followed direct room, attached) on the current connection. */
  private isLive = false;
  /** The join's backlog runs up to this seq; a gap below it is not a gap yet. */
  private backlogUntil = 0;
  private filling = false;
  /** Until the app had its turn after `join()` resolved, messages wait here (see `hold`). */
  private holding = false;
  private held: Message[] = [];
  private retryTimer: TimerHandle | undefined;
  /** Bumped whenever the connection ends: a reply from before is not acted on. */
  private round = 0;
  private closed = false;

  constructor(
    private readonly link: FeedLink,
    private readonly room: string,
    position: number | undefined,
    private readonly emit: (message: Message) => void,
  ) {
    this.seq = new Sequencer(position ?? 0);
    this.hasPosition = position !== undefined;
  }

  /** Seq of the last message delivered in order. */
  get lastSeq(): number {
    return this.seq.lastSeq;
  }

  /** Whether the feed knows where it is (a join then asks for what came after `lastSeq`). */
  get positioned(): boolean {
    return this.hasPosition;
  }

  /** Joined or attached on the current connection. */
  get live(): boolean {
    return this.isLive;
  }

  /** Starts after `since` (a stored position), unless the feed has a position already. */
  startAt(since: number): void {
    if (this.hasPosition) return;
    this.seq.reset(since);
    this.hasPosition = true;
  }

  /**
   * `await chat.join(id)` resolves when the reply arrives, but the backlog may be parsed in the
   * same turn, before the caller's code after `await` adds its listeners. Holding messages until
   * a timer turn after the join resolved means `room.on('message')` right after the await sees
   * the whole backlog.
   */
  hold(): void {
    this.holding = true;
  }

  /** A join is on its way: no gap fill-in while its backlog streams. */
  joining(): void {
    this.isLive = false;
  }

  /** A followed direct room on a new connection: the server attaches it by itself when a message comes. */
  attached(): void {
    this.isLive = true;
  }

  /**
   * The server accepted a join; the room is at `lastSeq`. Takes the position the join implies
   * and delivers what that releases. Returns whether this was the first join (no position before).
   */
  joined(lastSeq: number, persist: boolean, history: number): boolean {
    const first = !this.hasPosition;
    let ready: Message[] = [];
    if (first) {
      // The server streams the last `history` messages next; our position is just before them.
      ready = this.seq.reset(persist ? Math.max(0, lastSeq - history) : lastSeq);
      this.hasPosition = true;
    } else if (!persist) {
      // An ephemeral room keeps no history: what was sent while we were away is gone.
      ready = this.seq.skipTo(lastSeq);
    } else if (lastSeq < this.seq.lastSeq) {
      this.link.report(
        new RoomcastError('internal', `room "${this.room}" is at seq ${lastSeq} but this client saw ${this.seq.lastSeq}; the server lost history, continuing from ${lastSeq}`),
        this.room,
      );
      ready = this.seq.reset(lastSeq);
    }
    this.backlogUntil = lastSeq;
    this.isLive = true;
    this.deliver(ready);
    return first;
  }

  /** After a join was answered: releases held messages after a timer turn, and fills any gap. */
  flow(): void {
    if (this.holding) later(() => this.release(), 0);
    this.checkGap();
  }

  /** A message from the server, or our own acknowledged one: it takes its place in the sequence. */
  offer(message: Message): void {
    const ready = this.seq.offer(message.seq, message);
    if (ready === null) {
      this.link.stats.duplicates++;
      return;
    }
    this.deliver(ready);
    this.checkGap();
  }

  /** The connection ended: whatever was in flight is void. */
  disconnected(): void {
    this.round++;
    this.isLive = false;
    this.filling = false;
    cancel(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** The room ended: nothing more is delivered. */
  close(): void {
    this.closed = true;
    this.disconnected();
    this.held = [];
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const m of held) this.emit(m);
  }

  private deliver(messages: Message[]): void {
    for (const m of messages) {
      if (this.holding) this.held.push(m);
      else this.emit(m);
    }
  }

  /** A seq gap seen live (not explained by a backlog still streaming): fetch what is missing. */
  private checkGap(): void {
    const gap = this.seq.gap;
    if (!gap || this.filling || !this.isLive || !this.link.connected || this.seq.lastSeq < this.backlogUntil) return;
    this.filling = true;
    const round = this.round;
    const limit = Math.min(MAX_HISTORY_PAGE, gap.to - gap.from + 1);
    // The bottom of the gap first: `before` is exclusive, pages end just below it.
    this.link.call({ op: 'history', room: this.room, before: gap.from + limit, limit }, 'forget', true, (err, reply) => {
      if (round !== this.round || this.closed) return;
      this.filling = false;
      if (!reply) {
        if (!err || err.code === 'disconnected' || err.code === 'closed') return;
        if (isTransient(err.code) || err.code === 'timeout') this.retryLater();
        else this.link.report(err, this.room);
        return;
      }
      const raw = Array.isArray(reply.messages) ? (reply.messages as unknown[]) : [];
      let filled = 0;
      for (const e of raw) {
        if (!isMsgEvent(e)) continue;
        const ready = this.seq.offer(e.seq, toMessage(e, this.link.userId));
        if (ready === null) continue;
        filled++;
        this.deliver(ready);
      }
      this.link.stats.gapsFilled += filled;
      // Whatever history cannot give (an ephemeral room stores nothing) is gone for good.
      const still = this.seq.gap;
      if (still && still.from === gap.from) this.deliver(this.seq.skipTo(gap.from + limit - 1));
      this.checkGap();
    });
  }

  private retryLater(): void {
    cancel(this.retryTimer);
    this.retryTimer = later(() => {
      this.retryTimer = undefined;
      if (this.link.connected && !this.closed) this.checkGap();
    }, RETRY_AFTER_MS);
  }
}

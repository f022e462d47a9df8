import { RETRY_AFTER_MS, RoomcastError } from './errors.js';
import { Sequencer } from './sequencer.js';
import type { StreamItem } from './stream.js';
import { cancel, later, type TimerHandle } from './timers.js';
import type { ClientStats } from './types.js';

/** @internal What a Feed needs from its client: whether it is connected, counters, and where to report. */
export interface FeedLink {
  /** A welcomed connection is up. */
  readonly connected: boolean;
  readonly stats: Pick<ClientStats, 'duplicates' | 'gapsFilled'>;
  /** An error no promise reports, for the client's `error` event. */
  report(error: RoomcastError, room: string): void;
}

/**
 * How long, ms, a gap may wait behind a backlog that makes no progress before the feed joins
 * again. Only our own messages (acknowledged by reply, never sent back to us live) can wait
 * behind a backlog, and only a backlog that ends in deleted seqs never reaches its `lastSeq`:
 * without this they would wait for the room's next event.
 */
export const STALL_MS = 3000;

/** @internal What the Feed asks of its Room. */
export interface FeedOwner {
  /** An item of the stream, in seq order, once. */
  deliver(item: StreamItem): void;
  /** A gap was seen live: join again with `since: lastSeq` (the server streams everything after it, in order). */
  rejoin(): void;
}

/**
 * @internal One room's stream (messages and the changes to them) on its way to the app: in seq
 * order and each once (the Sequencer), held until the app's listeners are attached after `await
 * join()`, and with a gap seen live filled by joining again from `lastSeq`. The Room drives it:
 * where to start, joined, disconnected, ended.
 *
 * Why a re-join and not `history`: history returns messages only, so it cannot give the change
 * events in a gap. After a join's reply the server sends that room's events in seq order (the
 * backlog of everything stored after `since`, up to the reply's `lastSeq`, then live ones), so a
 * seq the server went past is not coming: it no longer exists (retention deletes old messages
 * with their change events) and is skipped (see `passed`).
 */
export class Feed {
  private readonly seq: Sequencer<StreamItem>;
  /** Whether `seq` has a real position yet (a first join without `since` learns it from the reply). */
  private hasPosition: boolean;
  /** Joined (or, for a followed direct room, attached) on the current connection. */
  private isLive = false;
  /** The join's backlog runs up to this seq; a gap below it is not a gap yet. */
  private backlogUntil = 0;
  /** A re-join to fill a gap is on its way. */
  private filling = false;
  /** The gap being filled, to count what filled it (`stats.gapsFilled`). */
  private gapToFill: { from: number; to: number } | null = null;
  /** Until the app had its turn after `join()` resolved, items wait here (see `hold`). */
  private holding = false;
  private held: StreamItem[] = [];
  /** A gap fill waiting: behind a backlog (see STALL_MS), or after a re-join that did not fill it. */
  private waitTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly link: FeedLink,
    private readonly room: string,
    position: number | undefined,
    private readonly owner: FeedOwner,
  ) {
    this.seq = new Sequencer(position ?? 0);
    this.hasPosition = position !== undefined;
  }

  /** Seq of the last stream event (message or change) delivered in order. */
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
   * same turn, before the caller's code after `await` adds its listeners. Holding items until
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
    // No backlog is coming: nothing below our position is in flight.
    this.backlogUntil = this.seq.lastSeq;
  }

  /**
   * The server accepted a join; the room is at `lastSeq`. Takes the position the join implies
   * and delivers what that releases. Returns whether this was the first join (no position before).
   */
  joined(lastSeq: number, persist: boolean, history: number): boolean {
    const first = !this.hasPosition;
    let ready: StreamItem[] = [];
    if (first) {
      // The server streams the last `history` seqs next (messages and changes); our position is just before them.
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
    this.filling = false;
    this.deliver(ready);
    return first;
  }

  /** After a join was answered: releases held items after a timer turn, and fills any gap. */
  flow(): void {
    if (this.holding) later(() => this.release(), 0);
    this.checkGap();
  }

  /**
   * An item of the stream takes its place in the sequence: `fromServer` for what the server
   * sent on this connection, false for our own acknowledged message or change (from its reply).
   */
  offer(item: StreamItem, fromServer: boolean): void {
    if (fromServer && this.isLive) this.passed(item.seq);
    const ready = this.seq.offer(item.seq, item);
    if (ready === null) {
      this.link.stats.duplicates++;
      return;
    }
    const gap = this.gapToFill;
    if (gap && item.seq >= gap.from && item.seq <= gap.to) this.link.stats.gapsFilled++;
    this.deliver(ready);
    this.checkGap();
  }

  /** The connection ended: whatever was in flight is void. */
  disconnected(): void {
    this.isLive = false;
    this.filling = false;
    cancel(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** The room ended: nothing more is delivered. */
  close(): void {
    this.closed = true;
    this.disconnected();
    this.held = [];
  }

  /**
   * The server sent seq `s` after this connection's join reply. It sends the room in seq order,
   * the backlog (everything stored up to `backlogUntil`, our own messages included) before any
   * live event, so a seq below `s` and not above `backlogUntil` that has not come is not stored:
   * skipped, releasing what waited behind it. Above `backlogUntil` our own messages arrive as
   * replies instead, so a missing seq there is a gap to fill, not a loss.
   */
  private passed(s: number): void {
    const gone = Math.min(s - 1, this.backlogUntil);
    if (gone > this.seq.lastSeq) this.deliver(this.seq.skipTo(gone));
  }

  private release(): void {
    if (!this.holding || this.closed) return;
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const item of held) this.owner.deliver(item);
  }

  private deliver(items: StreamItem[]): void {
    if (this.closed) return;
    for (const item of items) {
      if (this.holding) this.held.push(item);
      else this.owner.deliver(item);
    }
  }

  /**
   * A seq gap seen live (not explained by a backlog still streaming): join again from `lastSeq`.
   * `now`: the wait for it is over.
   */
  private checkGap(now = false): void {
    const gap = this.seq.gap;
    if (!gap || this.filling || this.closed || !this.isLive || !this.link.connected || this.waitTimer !== undefined) return;
    if (!now && this.seq.lastSeq < this.backlogUntil) {
      // Behind a backlog: fill it anyway if the backlog makes no progress for STALL_MS.
      const at = this.seq.lastSeq;
      return this.wait(STALL_MS, () => this.checkGap(this.seq.lastSeq === at));
    }
    // The last re-join did not fill this very gap (a server sending a seq it has not stored):
    // again, but not at once, or the two would go round as fast as the network.
    if (!now && this.gapToFill?.from === gap.from) return this.wait(RETRY_AFTER_MS, () => this.checkGap(true));
    this.filling = true;
    this.gapToFill = gap;
    this.owner.rejoin();
  }

  private wait(ms: number, then: () => void): void {
    this.waitTimer = later(() => {
      this.waitTimer = undefined;
      then();
    }, ms);
  }
}


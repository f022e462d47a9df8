import { applyChange, quoteText, requote } from './changes.js';
import type { Message } from './messages.js';
import type { ChangeEvent } from './stream.js';

/** How many messages and changes a room remembers (see `MessageCache`). */
export interface CacheLimits {
  /** The newest messages delivered on `message`. */
  recent: number;
  /** Messages the app loaded with `history` or found with `search`, the latest loads kept. */
  loaded: number;
  /** The newest changes delivered, replayed onto messages loaded while they were in flight. */
  changes: number;
}

export const CACHE_LIMITS: CacheLimits = { recent: 1000, loaded: 5000, changes: 1000 };

/**
 * @internal The Message objects a room keeps current, so an app can render state, not events:
 * one object per seq (the one `message` delivered, `history` returned, `search` found), changed
 * in place by every edit, unsend and reaction. Bounded (`CACHE_LIMITS`): a message evicted from
 * both sets keeps the state it had and changes no more.
 */
export class MessageCache {
  /** Delivered in seq order, so the Map's order is seq order and the oldest goes first. */
  private readonly recent = new Map<number, Message>();
  /** Loaded by the app, in load order (a message loaded again moves to the end). */
  private readonly loaded = new Map<number, Message>();
  /** Changes delivered, in seq order. */
  private readonly changes: ChangeEvent[] = [];

  constructor(
    private readonly selfId: () => string | null,
    private readonly limits: CacheLimits = CACHE_LIMITS,
  ) {}

  /** The kept message with this seq. */
  get(seq: number): Message | undefined {
    return this.recent.get(seq) ?? this.loaded.get(seq);
  }

  /** How many distinct messages are kept. */
  get size(): number {
    let n = this.recent.size;
    for (const seq of this.loaded.keys()) if (!this.recent.has(seq)) n++;
    return n;
  }

  /**
   * A message delivered in order: returns the object to hand to the app. When the app loaded
   * that seq already (a `history` page that reached past what was delivered), the loaded object
   * stays the one (it is newer than a live `msg`, and the changes that follow apply to it).
   */
  delivered(m: Message): Message {
    const known = this.get(m.seq);
    const kept = known && known.id === m.id ? known : m;
    if (kept !== m) fillIn(kept, m);
    this.fillQuote(kept);
    this.recent.set(kept.seq, kept);
    if (this.recent.size > this.limits.recent) this.recent.delete(this.recent.keys().next().value as number);
    return kept;
  }

  /** A change delivered in order: applied to its message (returned, when kept) and to quotes of it. */
  change(e: ChangeEvent): Message | undefined {
    this.changes.push(e);
    if (this.changes.length > this.limits.changes) this.changes.shift();
    // Quotes show text, not reactions: only edits and unsends re-quote.
    if (e.op !== 'reaction') for (const m of this.all()) requote(m, e);
    const target = this.get(e.target);
    if (target) applyChange(target, e, this.selfId());
    return target;
  }

  /**
   * Messages the app loaded (a `history` page, `search` hits), in their state when the server
   * read them. Returns the objects to hand out: the kept one for a seq already known (it is
   * current: every change since was applied to it), else the loaded one, now kept. A page's
   * messages may predate changes delivered while the request was on its way, so those (with a
   * seq above `after`, the room's `lastSeq` when the request went out) are applied once more.
   */
  adopt(messages: readonly Message[], after: number): Message[] {
    const self = this.selfId();
    const since = this.changes.filter((e) => e.seq > after);
    return messages.map((m) => {
      const known = this.get(m.seq);
      const kept = known && known.id === m.id ? known : m;
      if (kept === m) {
        for (const e of since) {
          requote(m, e);
          if (e.target === m.seq) applyChange(m, e, self);
        }
      } else {
        fillIn(kept, m);
      }
      this.loaded.delete(kept.seq);
      this.loaded.set(kept.seq, kept);
      if (this.loaded.size > this.limits.loaded) this.loaded.delete(this.loaded.keys().next().value as number);
      return kept;
    });
  }

  /** Our own reply knows only the answered seq until the server quotes it: quote the kept message, as the server would. */
  private fillQuote(m: Message): void {
    const q = m.replyTo;
    if (!q || q.from || q.unsent || q.text !== undefined || q.mime !== undefined) return;
    const answered = this.get(q.seq);
    if (!answered) return;
    if (answered.unsent) {
      m.replyTo = { seq: q.seq, unsent: true };
      return;
    }
    q.from = { id: answered.from.id, name: answered.from.name };
    if (answered.text !== undefined) q.text = quoteText(answered.text);
    else if (answered.binary) q.mime = answered.binary.mime;
  }

  private *all(): IterableIterator<Message> {
    yield* this.recent.values();
    for (const [seq, m] of this.loaded) if (this.recent.get(seq) !== m) yield m;
  }
}

/**
 * What another copy of the same message knows that the kept one may not: a live binary message
 * brings its bytes, a stored one its URL (our own acknowledged send has neither from the server).
 */
function fillIn(kept: Message, other: Message): void {
  if (kept.unsent || !kept.binary) return;
  if (other.data && !kept.data) kept.data = other.data;
  if (other.binary?.url && !kept.binary.url) kept.binary.url = other.binary.url;
}

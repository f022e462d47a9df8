/**
 * Puts one room's stream (messages and the changes to them) in seq order and lets each seq
 * through once. The server numbers a room's stream events 1, 2, 3… without gaps, so `lastSeq`
 * (everything up to it was delivered) is the whole memory needed: anything at or below it is a
 * duplicate (a resend after a reconnect, a backlog overlapping live traffic), anything beyond
 * `lastSeq + 1` waits until the gap fills.
 */
export class Sequencer<T> {
  private readonly held = new Map<number, T>();

  constructor(private last = 0) {}

  /** The highest seq such that it and everything before it was delivered. */
  get lastSeq(): number {
    return this.last;
  }

  /** Items waiting behind a gap. */
  get waiting(): number {
    return this.held.size;
  }

  /**
   * Offers one item. Returns the items that are now in order (possibly none), or null when the
   * seq was already delivered or is already waiting (a duplicate).
   */
  offer(seq: number, item: T): T[] | null {
    if (seq <= this.last || this.held.has(seq)) return null;
    this.held.set(seq, item);
    return this.drain();
  }

  /** The first missing range, when items wait behind it. */
  get gap(): { from: number; to: number } | null {
    if (this.held.size === 0) return null;
    let lowest = Infinity;
    for (const seq of this.held.keys()) if (seq < lowest) lowest = seq;
    return { from: this.last + 1, to: lowest - 1 };
  }

  /**
   * Gives up on the missing seqs up to `seq` (they cannot be had) and returns what is now in
   * order: the items held among them, in seq order, then whatever follows without a gap.
   */
  skipTo(seq: number): T[] {
    if (seq <= this.last) return [];
    const out: T[] = [];
    for (const s of [...this.held.keys()].filter((k) => k <= seq).sort((a, b) => a - b)) {
      out.push(this.held.get(s) as T);
      this.held.delete(s);
    }
    this.last = seq;
    return [...out, ...this.drain()];
  }

  /**
   * Moves the position to `seq`, also backwards (a first join's baseline, or a server whose
   * history was reset), keeping only held items after it; returns what is now in order.
   */
  reset(seq: number): T[] {
    for (const s of [...this.held.keys()]) if (s <= seq) this.held.delete(s);
    this.last = seq;
    return this.drain();
  }

  private drain(): T[] {
    const out: T[] = [];
    for (let next = this.held.get(this.last + 1); next !== undefined; next = this.held.get(this.last + 1)) {
      this.held.delete(this.last + 1);
      this.last++;
      out.push(next);
    }
    return out;
  }
}

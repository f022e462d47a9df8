// Group commit: requests that arrive in the same event-loop turn are written in one
// transaction, so a busy server pays one commit per turn instead of one per message.
// PostgreSQL also runs a few batches at once for disjoint keys (rooms), so one slow room does
// not hold up the others, and re-queues the inputs a batch could not take yet (a room whose
// counters another node has locked) until their wait is over.

interface Pending<I, R> {
  input: I;
  key: string;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** When it was first queued: the retry budget counts from here. */
  since: number;
  /** Not tried again before this time (ms since epoch); 0 = at once. */
  notBefore: number;
}

export interface BatcherOptions<I, R> {
  /** Writes a batch; must return one result (or the Error for that input) per input, in order. */
  write: (inputs: I[]) => Promise<Array<R | Error>>;
  /** Largest batch per transaction. */
  maxBatch: number;
  /** Batches written at once (default 1). Batches in flight never share a key. */
  maxInFlight?: number;
  /** The key inputs are ordered by (a room); inputs of one key are written in push order. */
  keyOf?: (input: I) => string;
  /** An input's Error that means "not now": it is queued again (in order) instead of failing. */
  retryable?: (err: Error) => boolean;
  /** How long an input may keep being retried before its last Error is its answer. */
  retryForMs?: number;
  /** Pause before a retried input is tried again. */
  retryDelayMs?: number;
  /**
   * A further batch starts only once the newest one in flight has run this long: batches stay
   * large (one commit for many messages) while the database answers, and a stuck batch does
   * not hold up the other keys for longer than this.
   */
  overlapAfterMs?: number;
  /**
   * A batch whose write has not settled this long is answered with an Error and its keys are
   * freed: whatever holds it (a connection no timeout caught), its rooms do not wait forever.
   * The write may still commit later; a client retrying with the same id gets that result.
   */
  writeTimeoutMs?: number;
}

/** A batch's write outlived BatcherOptions.writeTimeoutMs. */
export class WriteTimeoutError extends Error {
  constructor(ms: number) {
    super(`the database did not finish a write within ${ms} ms; retry in a moment`);
  }
}

export class Batcher<I, R> {
  private queue: Pending<I, R>[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** When the newest batch in flight started. */
  private newestStart = 0;
  /** Keys of the batches in flight. */
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private idle: Array<() => void> = [];

  constructor(private readonly opts: BatcherOptions<I, R>) {}

  push(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const key = this.opts.keyOf ? this.opts.keyOf(input) : '';
      this.queue.push({ input, key, resolve, reject, since: Date.now(), notBefore: 0 });
      this.schedule();
    });
  }

  /** Resolves once everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0 || this.scheduled) {
      await new Promise<void>((r) => this.idle.push(r));
    }
  }

  /** First batch of a turn waits for the turn's other requests (one setImmediate). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const max = this.opts.maxInFlight ?? 1;
    while (this.inFlight < max && this.mayOverlap()) {
      const batch = this.take();
      if (batch.length === 0) break;
      this.inFlight++;
      this.newestStart = Date.now();
      for (const p of batch) this.busy.add(p.key);
      void this.run(batch).finally(() => {
        this.inFlight--;
        for (const p of batch) this.busy.delete(p.key);
        this.pump();
      });
    }
    this.wake();
  }

  private mayOverlap(): boolean {
    return this.inFlight === 0 || Date.now() - this.newestStart >= (this.opts.overlapAfterMs ?? 0);
  }

  /** The next batch: queued inputs whose key is neither in flight nor behind a waiting input. */
  private take(): Pending<I, R>[] {
    const now = Date.now();
    const blocked = new Set<string>();
    const batch: Pending<I, R>[] = [];
    const rest: Pending<I, R>[] = [];
    for (const p of this.queue) {
      if (batch.length < this.opts.maxBatch && !this.busy.has(p.key) && !blocked.has(p.key) && p.notBefore <= now) batch.push(p);
      else {
        blocked.add(p.key);
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Pending<I, R>[]): Promise<void> {
    const again: Pending<I, R>[] = [];
    try {
      const results = await this.bounded(this.opts.write(batch.map((p) => p.input)));
      const now = Date.now();
      batch.forEach((p, i) => {
        const r = results[i];
        if (!(r instanceof Error)) return p.resolve(r as R);
        if (this.opts.retryable?.(r) && now - p.since < (this.opts.retryForMs ?? 0)) {
          p.notBefore = now + (this.opts.retryDelayMs ?? 10);
          again.push(p);
        } else p.reject(r);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
    // Back in front of later inputs of the same keys, which waited behind these.
    if (again.length > 0) this.queue.unshift(...again);
  }

  private bounded<T>(write: Promise<T>): Promise<T> {
    const ms = this.opts.writeTimeoutMs;
    if (!ms) return write;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WriteTimeoutError(ms)), ms);
    });
    write.catch(() => {}); // settles after its answer was given: nothing to report to anyone
    return Promise.race([write, late]).finally(() => clearTimeout(timer));
  }

  /** Arms the retry timer, and tells drain() when nothing is left. */
  private wake(): void {
    if (this.queue.length === 0 && this.inFlight === 0 && !this.scheduled) {
      for (const r of this.idle.splice(0)) r();
      return;
    }
    if (this.timer || this.queue.length === 0) return;
    const now = Date.now();
    const at: number[] = this.queue.filter((p) => p.notBefore > now).map((p) => p.notBefore);
    // The overlap timer only when something could start then: inputs waiting on a key in flight
    // are started by that batch's end (a timer for them would fire every millisecond meanwhile).
    const startable = this.queue.some((p) => p.notBefore <= now && !this.busy.has(p.key));
    if (startable && this.inFlight > 0 && this.inFlight < (this.opts.maxInFlight ?? 1)) at.push(Math.max(now + 1, this.newestStart + (this.opts.overlapAfterMs ?? 0)));
    // Nothing in flight whose end would start the rest: something must be armed, whatever the
    // clocks say (a timer can fire a little before Date.now() reaches its time).
    if (this.inFlight === 0) at.push(now + 1);
    if (at.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(1, Math.min(...at) - now));
  }
}

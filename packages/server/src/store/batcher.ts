// Group commit: requests that arrive in the same event-loop turn are written in one
// transaction, so a busy server pays one commit per turn instead of one per message.

interface Pending<I, R> {
  input: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface BatcherOptions<I, R> {
  /** Writes a batch; must return one result (or the Error for that input) per input, in order. */
  write: (inputs: I[]) => Promise<Array<R | Error>>;
  /** Largest batch per transaction. */
  maxBatch: number;
}

export class Batcher<I, R> {
  private queue: Pending<I, R>[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: BatcherOptions<I, R>) {}

  push(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running || this.scheduled) {
      if (this.running) await this.running;
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.flush().finally(() => {
        this.running = null;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      try {
        const results = await this.opts.write(batch.map((p) => p.input));
        batch.forEach((p, i) => {
          const r = results[i];
          if (r instanceof Error) p.reject(r);
          else p.resolve(r as R);
        });
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }
}

import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/logger.js';
import type { FileRegex } from './filter-patterns.js';
import type { Span } from './filter-words.js';

// The `file:` regular expressions run in a worker thread, one message at a time, each with a time
// budget: an expression that backtracks for too long costs that message (a failure, settled by
// --hook-fail), never the event loop. On an overrun the worker is terminated and a new one started.

/** Why the worker gave no answer for one message. */
export class RegexFailure extends Error {}

/** Milliseconds the expressions have for one message. */
export const REGEX_BUDGET_MS = 50;
/** Messages waiting for the worker; past it a message fails at once. */
const MAX_QUEUED = 1000;
const LOG_EVERY_MS = 10_000;

// CommonJS, run with eval: the expressions, compiled once; `running[0]` says which one runs now.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const running = new Int32Array(workerData.running);
const res = workerData.sources.map((s) => new RegExp(s, 'gu'));
parentPort.on('message', ({ text }) => {
  const out = res.map((re, i) => {
    Atomics.store(running, 0, i);
    const spans = [];
    for (const m of text.matchAll(re)) if (m[0].length > 0) spans.push(m.index, m.index + m[0].length);
    return spans;
  });
  parentPort.postMessage(out);
});
parentPort.postMessage('ready');
`;

interface Job {
  text: string;
  resolve(spans: Span[]): void;
  reject(err: Error): void;
}

export class RegexWorker {
  /** Overruns and crashes since start (for tests). */
  failures = 0;
  private worker: Worker | null = null;
  private ready = false;
  private current: Job | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Job[] = [];
  private readonly running = new SharedArrayBuffer(4);
  private readonly lastLog = new Map<string, number>();
  private closing = false;

  constructor(
    private readonly regexes: readonly FileRegex[],
    private readonly log: Logger,
    private readonly budgetMs = REGEX_BUDGET_MS,
  ) {
    this.start();
  }

  /** The spans every expression matches in `text`; rejects with a RegexFailure. */
  find(text: string): Promise<Span[]> {
    if (this.closing) return Promise.reject(new RegexFailure('the pattern lists were reloaded'));
    if (this.queue.length >= MAX_QUEUED) return Promise.reject(new RegexFailure(`${MAX_QUEUED} messages are waiting for the file: patterns`));
    return new Promise<Span[]>((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      if (!this.worker) this.start();
      this.next();
    });
  }

  /** Stops the worker once the messages waiting were answered. */
  close(): void {
    this.closing = true;
    if (!this.current && this.queue.length === 0) this.stop();
  }

  private start(): void {
    this.ready = false;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sources: this.regexes.map((r) => r.source), running: this.running } });
    w.unref();
    this.worker = w;
    w.on('message', (m: unknown) => {
      if (w !== this.worker) return;
      if (m === 'ready') this.ready = true;
      else this.answered(m as number[][]);
      this.next();
    });
    w.on('error', (err) => this.lost(w, `the worker failed (${err.message})`));
    w.on('exit', () => this.lost(w, 'the worker exited'));
  }

  private stop(): void {
    const w = this.worker;
    this.worker = null;
    this.ready = false;
    clearTimeout(this.timer);
    void w?.terminate();
  }

  private next(): void {
    if (!this.ready || this.current || !this.worker) return;
    const job = this.queue.shift();
    if (!job) {
      if (this.closing) this.stop();
      return;
    }
    this.current = job;
    this.timer = setTimeout(() => this.overrun(), this.budgetMs);
    this.worker.postMessage({ text: job.text });
  }

  private answered(out: number[][]): void {
    clearTimeout(this.timer);
    const job = this.current;
    this.current = null;
    const spans: Span[] = [];
    for (const flat of out) for (let i = 0; i < flat.length; i += 2) spans.push({ start: flat[i] as number, end: flat[i + 1] as number });
    job?.resolve(spans);
  }

  private overrun(): void {
    const r = this.regexes[Atomics.load(new Int32Array(this.running), 0)];
    this.fail(`the expression ${r?.name ?? '?'} ran over ${this.budgetMs} ms on one message`, r?.file ?? '');
  }

  private lost(w: Worker, why: string): void {
    if (w === this.worker) this.fail(why, '');
  }

  /** Fails the message in hand, and starts a new worker for the rest. */
  private fail(why: string, file: string): void {
    this.failures++;
    const job = this.current;
    this.current = null;
    this.stop();
    const now = Date.now();
    if (now - (this.lastLog.get(file) ?? 0) >= LOG_EVERY_MS) {
      this.lastLog.set(file, now);
      this.log.warn({ file, reason: why }, '--filter-patterns: a file: expression failed on a message (--hook-fail applies); make it simpler');
    }
    job?.reject(new RegexFailure(why));
    // A worker lost before it was ready fails what waits, and the next message starts another:
    // never a loop of restarts.
    if (!job) for (const waiting of this.queue.splice(0)) waiting.reject(new RegexFailure(why));
    else if (this.queue.length > 0) this.start();
  }
}

import type { Store } from '../store/store.js';
import type { ChatConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Work } from './work.js';

// Retention: messages older than their room's `retention` (or --retention-days) are deleted by a
// sweep every minute, so they are gone within a few minutes of passing the age.
//
// In cluster mode every node sweeps: the deletes are idempotent (a node deleting what another
// just deleted deletes nothing), and a node's sweep costs one look-up per room when nothing is
// old, so electing one sweeper would cost more than it saves.

export interface RetentionDeps {
  store: Store;
  config: ChatConfig;
  log: Logger;
  work: Work;
  now: () => number;
  /** How often to sweep, ms; 0: never on its own (tests call `sweep`). */
  everyMs: number;
}

/** The default sweep interval. */
export const RETENTION_SWEEP_MS = 60_000;
/** A failing sweep is logged at most this often (the failures in between are counted). */
const ERROR_LOG_EVERY_MS = 10 * 60_000;

export class RetentionSweeper {
  private readonly timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;
  private lastLogged = -Infinity;
  private unlogged = 0;

  constructor(private readonly d: RetentionDeps) {
    if (d.everyMs > 0) {
      this.timer = setInterval(() => void this.sweep().catch((err: unknown) => this.failed(err)), d.everyMs);
      this.timer.unref();
    }
  }

  /**
   * Deletes what is past its retention at `at` (default: now; tests pass a later time instead
   * of waiting days); resolves with how many stream events went. A sweep still running is
   * joined rather than started twice. Counted as work, so shutdown waits for it before the
   * store closes.
   */
  sweep(at?: number): Promise<number> {
    this.running ??= this.d.work.track(this.run(at ?? this.d.now())).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async run(at: number): Promise<number> {
    const deleted = await this.d.store.pruneMessages(at, this.d.config.retentionDays);
    if (deleted > 0) this.d.log.info({ deleted }, 'deleted messages past their retention');
    return deleted;
  }

  /** The store is away or failing: the next sweep tries again; the log hears of it now and then. */
  private failed(err: unknown): void {
    const now = this.d.now();
    if (now - this.lastLogged < ERROR_LOG_EVERY_MS) {
      this.unlogged++;
      return;
    }
    const unlogged = this.unlogged;
    this.lastLogged = now;
    this.unlogged = 0;
    this.d.log.warn({ err, ...(unlogged > 0 ? { failedSince: unlogged } : {}) }, 'deleting messages past their retention failed; retrying at the next sweep');
  }
}

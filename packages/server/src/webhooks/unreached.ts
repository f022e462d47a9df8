import type { Logger } from '../core/logger.js';
import { outboxEvent, type OutboxEvent, type OutboxPort, type UnreachedCheck } from '../store/outbox.js';

// message.unreached, the push-notification trigger. Each stored message leaves a durable check
// of its room due --unreached-delay later (one per room: a burst is one check); when it comes
// due, each member who has not read the new messages, was not told yet and has no connection
// anywhere gets one event with the count and the last message. The events, the "told up to"
// marks and the check's removal are one transaction, so a crash repeats a check, never loses one.

/** Text of the last message in the event: enough for a notification, not the whole message. */
const PREVIEW_CHARS = 140;
/** Rooms checked per round at most. */
const PAGE = 50;

export interface UnreachedOptions {
  store: OutboxPort;
  isOnline: (userId: string) => Promise<boolean>;
  owner: string;
  log: Logger;
  delayMs: number;
  pollMs: number;
  leaseMs: number;
  now?: () => number;
}

export class UnreachedChecker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly now: () => number;
  private current: Promise<void> = Promise.resolve();

  constructor(private readonly o: UnreachedOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.current.catch(() => {});
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = this.round()
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'message.unreached check failed; retrying at the next poll'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async round(): Promise<void> {
    for (;;) {
      const now = this.now();
      const checks = await this.o.store.claimUnreachedChecks({ owner: this.o.owner, now, leaseUntil: now + this.o.leaseMs, limit: PAGE });
      for (const c of checks) {
        if (this.stopped) return;
        await this.check(c);
      }
      if (checks.length < PAGE || this.stopped) return;
    }
  }

  private async check(c: UnreachedCheck): Promise<void> {
    const state = await this.o.store.unreachedCandidates(c);
    const upTo = state?.upTo ?? c.toSeq;
    const events: OutboxEvent[] = [];
    const told: string[] = [];
    for (const cand of state?.candidates ?? []) {
      if (await this.o.isOnline(cand.user.id)) continue;
      const sum = await this.o.store.unreachedSummary(c.room, cand.user.id, cand.after, upTo);
      told.push(cand.user.id);
      if (!sum) continue;
      const last: Record<string, unknown> = { id: sum.last.id, seq: sum.last.seq, from: sum.last.from, ts: sum.last.ts };
      if (sum.last.text !== undefined) last.preview = previewOf(sum.last.text);
      if (sum.last.mime !== undefined) last.mime = sum.last.mime;
      events.push(outboxEvent('message.unreached', null, { room: c.room, user: cand.user, count: sum.count, firstSeq: sum.firstSeq, lastSeq: sum.lastSeq, last }, this.now()));
    }
    await this.o.store.finishUnreachedCheck(c, upTo, events, told, this.now() + this.o.delayMs);
  }
}

/** The start of a text for a notification: at most PREVIEW_CHARS code points (an emoji is never cut in half). */
export function previewOf(text: string): string {
  const points = Array.from(text);
  return points.length > PREVIEW_CHARS ? `${points.slice(0, PREVIEW_CHARS - 1).join('')}…` : text;
}

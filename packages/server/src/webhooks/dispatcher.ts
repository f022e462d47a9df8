import type { Logger } from '../core/logger.js';
import type { OutboxPort, OutboxRow } from '../store/outbox.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { WebhookStats } from './stats.js';
import type { WebhookEndpoint, WebhookEvent } from './types.js';

// Sends the outbox to the endpoints: per endpoint, the first pending row of each lane (a room)
// is claimed with a lease and sent; a 2xx removes it, a failure puts it back with a backoff, and
// the lane's later rows wait for it. Woken by commits on this node, and by a poll for rows of
// other nodes, of a crash, and retries that come due.

export interface DispatcherOptions {
  store: OutboxPort;
  endpoints: readonly WebhookEndpoint[];
  /** This node's name: it holds the leases. */
  owner: string;
  log: Logger;
  stats: WebhookStats;
  /** Events older than this are dropped (logged and counted) instead of retried, ms. */
  maxAgeMs: number;
  backoff: BackoffOptions;
  /** How often the outbox is looked at without a wake-up, ms. */
  pollMs: number;
  /** How long a claimed row is this node's; past it (a crash) another node sends it, ms. */
  leaseMs: number;
  /** Requests in flight per endpoint at most (= rows claimed and not settled). */
  maxInFlight: number;
  now?: () => number;
}

interface EndpointState {
  endpoint: WebhookEndpoint;
  inFlight: number;
  pumping: boolean;
  again: boolean;
}

export class Dispatcher {
  private readonly states: EndpointState[];
  private readonly now: () => number;
  private poll: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly settling = new Set<Promise<void>>();

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? Date.now;
    this.states = o.endpoints.map((endpoint) => ({ endpoint, inFlight: 0, pumping: false, again: false }));
  }

  start(): void {
    // (A damaged store answers with a rejected promise: nothing to wake for then.)
    const r: unknown = this.o.store.onOutboxWrite(() => this.wake());
    if (r instanceof Promise) r.catch(() => {});
    this.poll = setInterval(() => this.wake(), this.o.pollMs);
    this.poll.unref();
    this.wake();
  }

  /** Looks for rows to send now. */
  wake(): void {
    if (this.stopped) return;
    for (const s of this.states) void this.pump(s);
  }

  /** Stops claiming; waits (at most `graceMs`) for requests in flight to settle. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    for (const t of this.timers) clearTimeout(t);
    if (this.settling.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.settling]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  private async pump(s: EndpointState): Promise<void> {
    if (s.pumping) {
      s.again = true;
      return;
    }
    s.pumping = true;
    try {
      do {
        s.again = false;
        const free = this.o.maxInFlight - s.inFlight;
        if (free <= 0 || this.stopped) break;
        const now = this.now();
        const rows = await this.o.store.claimOutbox({ endpoint: s.endpoint.name, owner: this.o.owner, now, leaseUntil: now + this.o.leaseMs, limit: free });
        for (const row of rows) this.track(this.send(s, row));
        // A full page: there may be more.
        if (rows.length === free) s.again = true;
      } while (s.again && !this.stopped);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message, endpoint: s.endpoint.name }, 'webhook outbox could not be read; retrying at the next poll');
    } finally {
      s.pumping = false;
    }
  }

  private track(p: Promise<void>): void {
    this.settling.add(p);
    void p.finally(() => this.settling.delete(p));
  }

  private async send(s: EndpointState, row: OutboxRow): Promise<void> {
    s.inFlight++;
    const stats = this.o.stats.of(s.endpoint.name);
    try {
      let event: WebhookEvent;
      try {
        event = JSON.parse(row.body) as WebhookEvent;
      } catch {
        // Cannot happen for rows this server wrote; a hand-edited row must not block its lane.
        await this.o.store.completeOutbox(row.pos);
        return;
      }
      try {
        await s.endpoint.deliver(event, row.body);
      } catch (err) {
        stats.failed++;
        stats.lastError = (err as Error).message;
        stats.lastErrorAt = this.now();
        if (this.stopped) return;
        await this.failed(s, row, (err as Error).message);
        return;
      }
      stats.delivered++;
      stats.lastSuccessAt = this.now();
      if (!this.stopped) await this.o.store.completeOutbox(row.pos);
    } catch (err) {
      // The store failed: the lease runs out and the row is sent again (at least once).
      this.o.log.warn({ err: (err as Error).message, endpoint: s.endpoint.name }, 'webhook outbox update failed');
    } finally {
      s.inFlight--;
      if (!this.stopped) void this.pump(s);
    }
  }

  private async failed(s: EndpointState, row: OutboxRow, error: string): Promise<void> {
    const now = this.now();
    if (now - row.createdAt >= this.o.maxAgeMs) {
      this.o.stats.of(s.endpoint.name).dropped++;
      this.o.log.error({ endpoint: s.endpoint.name, event: row.eventId, type: row.type, attempts: row.attempts + 1, error }, 'webhook event dropped: still failing after --webhook-max-age');
      await this.o.store.completeOutbox(row.pos);
      return;
    }
    const delay = backoffDelay(this.o.backoff, row.attempts + 1);
    await this.o.store.retryOutbox(row.pos, now + delay, error);
    this.o.log.debug({ endpoint: s.endpoint.name, event: row.eventId, delay, error }, 'webhook delivery failed; will retry');
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.wake();
    }, delay + 1);
    t.unref();
    this.timers.add(t);
  }
}

import type { RedisKeys } from './redis-keys.js';
import { PRESENCE_SCRIPTS } from './redis-presence-scripts.js';
import type { RedisRunner } from './redis-types.js';

/** A lease not renewed for this share of it may have lapsed (clocks and delays vary). */
export const LAPSE_MARGIN = 0.8;

// The cluster's table of node instances (one per process start) and their leases, in one global
// sorted set: instance → lease expiry (ms, Redis' clock). Each instance refreshes its own every
// lease/3 and reads the table back, so it knows which instances died: those whose lease lapsed
// (score in the past), or which a restarted node marked dead (score 0: its previous process,
// same node id, is gone for sure). A dead instance stays in the table until its presence was
// swept (RedisPresence), then leaves it.

export class InstanceTable {
  /** Instances whose lease lapsed, per the last read (a failed read keeps the last known set). */
  readonly dead = new Set<string>();
  /** Date.now() of the last refresh Redis acknowledged; 0: never. */
  lastRefresh = 0;
  /**
   * A refresh came most of a lease after the one before: other nodes may have taken this
   * instance for dead and swept its users meanwhile (RedisPresence re-adds them as a new epoch).
   */
  gap = false;
  private readonly key: string;
  /** Earlier processes of this node (same node id), marked dead with the next refresh. */
  private readonly buried = new Set<string>();

  constructor(
    private readonly runner: RedisRunner,
    keys: RedisKeys,
    private readonly leaseMs: number,
  ) {
    this.key = keys.global('instances');
  }

  /** Takes or renews `self`'s lease and reads the table back. Rejects when Redis is away. */
  async refresh(self: string): Promise<void> {
    const started = Date.now();
    const reply = (await this.runner.script(PRESENCE_SCRIPTS.lease, [this.key], [self, this.leaseMs, ...this.buried])) as string[];
    this.buried.clear();
    if (this.lastRefresh > 0 && started - this.lastRefresh > this.leaseMs * LAPSE_MARGIN) this.gap = true;
    this.lastRefresh = started;
    const now = Number(reply[0]);
    const node = nodeOf(self);
    this.dead.clear();
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const id = reply[i] as string;
      if (id === self) continue;
      // The node id is unique in the cluster: another instance of it is this node's previous
      // process (restarted, or this process before a lapsed lease). Its users are gone now.
      if (node !== null && nodeOf(id) === node && Number(reply[i + 1]) > 0) this.buried.add(id);
      if (Number(reply[i + 1]) <= now || this.buried.has(id)) this.dead.add(id);
    }
    if (this.buried.size > 0) await this.refresh(self);
  }

  /** A swept instance leaves the table. */
  async forget(instance: string): Promise<void> {
    await this.runner.command('ZREM', this.key, [instance]);
    this.dead.delete(instance);
  }

  /** Clean shutdown: the lease goes at once. */
  async leave(self: string): Promise<void> {
    await this.runner.command('ZREM', this.key, [self]);
  }
}

/** The node id of an instance id (`NODE~random`, with `.EPOCH` after a lapsed lease). */
function nodeOf(instance: string): string | null {
  const sep = instance.lastIndexOf('~');
  return sep > 0 ? instance.slice(0, sep) : null;
}

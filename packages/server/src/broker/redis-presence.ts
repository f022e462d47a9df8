import type { UserRef } from '@roomcast/protocol';
import type { PresenceChange, PresencePage, PresencePageOptions, PresenceResync } from './broker.js';
import { decodePresenceCursor, encodePresenceCursor } from './presence-cursor.js';
import { InstanceTable, LAPSE_MARGIN } from './redis-instances.js';
import type { RedisKeys } from './redis-keys.js';
import { PRESENCE_SCRIPTS as S } from './redis-presence-scripts.js';
import type { RedisRunner } from './redis-types.js';

// Presence in Redis, O(1)/O(log n) per add, remove and count at any room size (the keys are
// described in redis-presence-scripts.ts). Entries belong to node instances (one per process
// start), never to node ids, so a node restarted with the same id starts clean and its previous
// process's users are swept at once. Each instance also records in a set of its own which scopes
// it has entries in, so whoever sees it die can sweep even scopes nobody touches again (a
// crashed node's users' `~user:` scopes).

export interface RedisPresenceOptions {
  runner: RedisRunner;
  keys: RedisKeys;
  instanceId: string;
  leaseMs: number;
  onError?: (e: Error) => void;
}

/** Users of a dead instance taken out of one scope per script call. */
const SWEEP_CHUNK = 500;
/** Scopes of a dead instance swept per sweep() call (each a few µs of Redis time). */
const SWEEP_SCOPES = 2000;
/** Scopes read from a dead instance's scope set per round trip. */
const SCOPES_PER_READ = 200;

export class RedisPresence {
  /** What this instance holds: scope → user id → user. The truth a resync puts back. */
  private readonly mine = new Map<string, Map<string, UserRef>>();
  private readonly table: InstanceTable;
  private timer: NodeJS.Timeout | undefined;
  /** This instance's id in presence; a new epoch after its lease may have lapsed (see resync). */
  private id: string;
  private epoch = 0;
  private stopped = false;
  private resyncing: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RedisPresenceOptions) {
    this.id = o.instanceId;
    this.table = new InstanceTable(o.runner, o.keys, o.leaseMs);
  }

  /** Takes the instance lease, and keeps it (and the table of dead instances) fresh. */
  async start(): Promise<void> {
    await this.table.refresh(this.id);
    this.timer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(this.o.leaseMs / 3)));
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.table.refresh(this.id);
    } catch (err) {
      this.o.onError?.(err as Error);
    }
  }

  async add(scope: string, user: UserRef): Promise<PresenceChange> {
    const ref = { id: user.id, name: user.name };
    let users = this.mine.get(scope);
    const first = !users;
    if (!users) this.mine.set(scope, (users = new Map()));
    users.set(user.id, ref);
    const [reply] = await Promise.all([
      this.o.runner.script(S.add, this.scopeKeys(scope, this.id), [this.id, user.id, JSON.stringify(ref)]),
      first ? this.o.runner.command('SADD', this.scopesKey(this.id), [scope]) : undefined,
    ]);
    const [changed, online] = reply as [number, number];
    return { changed: changed === 1, online };
  }

  async remove(scope: string, userId: string): Promise<PresenceChange> {
    const users = this.mine.get(scope);
    users?.delete(userId);
    const [changed, online] = (await this.o.runner.script(S.remove, this.scopeKeys(scope, this.id), [this.id, userId])) as [number, number];
    // Only once Redis has it: a scope left out of the set would never be swept after a crash.
    if (users?.size === 0 && this.mine.get(scope) === users) {
      this.mine.delete(scope);
      await this.o.runner.command('SREM', this.scopesKey(this.id), [scope]);
    }
    return { changed: changed === 1, online };
  }

  async page(scope: string, opts: PresencePageOptions): Promise<PresencePage> {
    if (opts.among) {
      const [online, ...json] = (await this.o.runner.script(S.among, [this.key(scope, 'z'), this.key(scope, 'u')], [...opts.among])) as [number, ...string[]];
      return { online, users: json.map(parseUser) };
    }
    const after = opts.cursor === undefined ? '-inf' : `(${decodePresenceCursor(opts.cursor).at}`;
    const limit = Math.max(1, Math.floor(opts.limit));
    // One more than listed tells whether another page follows.
    const [online, ...rest] = (await this.o.runner.script(S.page, [this.key(scope, 'z'), this.key(scope, 'u')], [after, limit + 1])) as [number, ...string[]];
    const users: UserRef[] = [];
    let lastScore = 0;
    for (let i = 0; i + 1 < rest.length && users.length < limit; i += 2) {
      lastScore = Number(rest[i]);
      users.push(parseUser(rest[i + 1] as string));
    }
    const lastUser = users.at(-1);
    const more = rest.length / 2 > limit && lastUser !== undefined;
    return { users, online, ...(more && lastUser ? { next: encodePresenceCursor(lastScore, lastUser.id) } : {}) };
  }

  async counts(scopes: string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(scopes.map((s) => this.o.runner.command('ZCARD', this.key(s, 'z'), []) as Promise<number>));
    return new Map(scopes.map((s, i) => [s, Number(counts[i])]));
  }

  /**
   * Sweeps dead instances' entries, a bounded amount per call; returns who went offline where.
   * No Redis call at all while no instance died. One node sweeps a given instance at a time (a
   * short lock), so each departure is reported once.
   */
  async sweep(): Promise<PresenceResync[]> {
    // The lease was not renewed for a while without Redis going away (a stalled process, a slow
    // Redis): other nodes may have swept this instance, so it puts its users back first.
    if (this.table.gap) return this.resync();
    const out = new Map<string, PresenceResync>();
    let budget = SWEEP_SCOPES;
    for (const dead of [...this.table.dead]) {
      if (budget <= 0 || this.stopped) break;
      const lock = this.o.keys.global(`sweep:${dead}`);
      const got = await this.o.runner.command('SET', lock, [this.id, 'NX', 'PX', Math.max(1000, this.o.leaseMs)]);
      if (got !== 'OK') continue;
      try {
        budget = await this.sweepInstance(dead, budget, out);
      } finally {
        await this.o.runner.command('DEL', lock, []).catch(() => {});
      }
    }
    return [...out.values()];
  }

  private async sweepInstance(dead: string, budget: number, out: Map<string, PresenceResync>): Promise<number> {
    const scopesKey = this.scopesKey(dead);
    while (budget > 0) {
      const scopes = ((await this.o.runner.command('SRANDMEMBER', scopesKey, [Math.min(SCOPES_PER_READ, budget)])) as string[]);
      if (scopes.length === 0) {
        // Nothing of theirs is left anywhere: they leave the table, with their scope set.
        await this.o.runner.command('DEL', scopesKey, []);
        await this.table.forget(dead);
        return budget;
      }
      for (const scope of scopes) {
        budget--;
        const [online, done, ...gone] = (await this.o.runner.script(S.sweep, this.scopeKeys(scope, dead), [dead, SWEEP_CHUNK])) as [number, number, ...string[]];
        if (done === 1) await this.o.runner.command('SREM', scopesKey, [scope]);
        if (gone.length > 0) merge(out, scope, [], gone.map(parseUser), online);
      }
    }
    return budget;
  }

  /**
   * Redis answers again: makes this instance's entries exactly what it holds now, in every scope
   * it holds someone in and every scope it had entries in. When the lease may have lapsed meanwhile
   * (other nodes may have swept it and announced its users gone), it comes back as a new epoch
   * and re-adds everything: those users are announced back, and its old id is swept like a crash.
   */
  resync(): Promise<PresenceResync[]> {
    // One at a time: a sweep that found a gap and a recovery may ask at once.
    const run = this.resyncing.then(() => this.resyncNow());
    this.resyncing = run.catch(() => {});
    return run;
  }

  private async resyncNow(): Promise<PresenceResync[]> {
    const lapsed = this.table.gap || Date.now() - this.table.lastRefresh > this.o.leaseMs * LAPSE_MARGIN;
    this.table.gap = false;
    const old = this.id;
    if (lapsed) this.id = `${this.o.instanceId}.${++this.epoch}`;
    const scopes = new Set(this.mine.keys());
    // Scopes it had entries in and holds nobody in now: users removed while Redis was away.
    if (!lapsed) for (const s of (await this.o.runner.command('SMEMBERS', this.scopesKey(old), [])) as string[]) scopes.add(s);
    const out = new Map<string, PresenceResync>();
    for (const scope of scopes) {
      const users = [...(this.mine.get(scope)?.values() ?? [])];
      const args = [this.id, ...users.flatMap((u) => [u.id, JSON.stringify(u)])];
      const [online, nJoined, ...json] = (await this.o.runner.script(S.reconcile, this.scopeKeys(scope, this.id), args)) as [number, number, ...string[]];
      const all = json.map(parseUser);
      merge(out, scope, all.slice(0, nJoined), all.slice(nJoined), online);
      if (users.length === 0) this.mine.delete(scope);
    }
    const held = [...this.mine.keys()];
    for (let i = 0; i < held.length; i += 1000) await this.o.runner.command('SADD', this.scopesKey(this.id), held.slice(i, i + 1000));
    const emptied = [...scopes].filter((s) => !this.mine.has(s));
    if (!lapsed && emptied.length > 0) await this.o.runner.command('SREM', this.scopesKey(this.id), emptied);
    // Only now the new epoch takes its lease, which marks the old id dead (same node): its
    // entries are swept after this instance's are back, so nobody online is announced gone.
    await this.table.refresh(this.id);
    return [...out.values()].filter((r) => r.joined.length > 0 || r.left.length > 0);
  }

  /** Clean shutdown: this instance's entries and lease go now, not a lease later. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    try {
      for (const scope of [...this.mine.keys()]) {
        await this.o.runner.script(S.reconcile, this.scopeKeys(scope, this.id), [this.id]);
        this.mine.delete(scope);
      }
      await this.o.runner.command('DEL', this.scopesKey(this.id), []);
      await this.table.leave(this.id);
    } catch (err) {
      // Redis is away: the lease lapses by itself and another node sweeps what is left.
      this.o.onError?.(err as Error);
    }
  }

  private key(scope: string, part: string): string {
    return this.o.keys.presence(scope, part);
  }

  /** z c u i and the instance's own set: what the add/remove/sweep/reconcile scripts take. */
  private scopeKeys(scope: string, instance: string): string[] {
    return [this.key(scope, 'z'), this.key(scope, 'c'), this.key(scope, 'u'), this.key(scope, 'i'), this.key(scope, `m:${instance}`)];
  }

  /** The scopes an instance has entries in (a global key: another shard than the scopes'). */
  private scopesKey(instance: string): string {
    return this.o.keys.global(`scopes:${instance}`);
  }
}

function parseUser(json: string): UserRef {
  const u = JSON.parse(json) as UserRef;
  return { id: u.id, name: u.name };
}

function merge(out: Map<string, PresenceResync>, room: string, joined: UserRef[], left: UserRef[], online: number): void {
  const r = out.get(room);
  if (r) {
    r.joined.push(...joined);
    r.left.push(...left);
    r.online = online;
  } else {
    out.set(room, { room, joined, left, online });
  }
}

import { Redis } from 'ioredis';
import type { UserRef } from '@roomcast/protocol';
import type { Broker, BrokerHandler, BrokerMessage, ControlMessage, PresenceChange } from './broker.js';

// The cluster broker on Redis.
// - Fan-out: one pub/sub channel per room; a node subscribes only to rooms with local members,
//   so it never receives traffic for rooms it does not serve. Pub/sub is at-most-once: the core
//   notices seq gaps and backfills from the store.
// - Presence: a hash per room, field `node|user`. Every node holds a lease key it refreshes;
//   entries of a node whose lease lapsed no longer count, so a crashed node's users go offline
//   within one lease period, and `sweep` removes them and says who left.

export interface RedisBrokerOptions {
  url: string;
  /** This node's id (unique in the cluster; must not contain `|`). */
  nodeId: string;
  /** Presence lease, ms: how long a silent node's users still count as online. */
  leaseMs?: number;
  /** Called when the connection came back after a loss (the core then backfills). */
  onRecover?: () => void;
  onError?: (err: Error) => void;
}

const PREFIX = 'rc:';
const nodeKey = (id: string) => `${PREFIX}node:${id}`;
const presenceKey = (room: string) => `${PREFIX}p:${room}`;
const channelOf = (room: string) => `${PREFIX}r:${room}`;

// Shared Lua: walks a presence hash, keeping entries whose node lease is alive. ARGV[1] is this
// node (always alive to itself), ARGV[2] the lease key prefix.
const WALK = `
local alive, users, n = {}, {}, 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local f = fields[i]
  local sep = string.find(f, '|', 1, true)
  local node, uid = string.sub(f, 1, sep - 1), string.sub(f, sep + 1)
  if alive[node] == nil then alive[node] = (node == ARGV[1]) or (redis.call('EXISTS', ARGV[2] .. node) == 1) end
  if alive[node] then
    if users[uid] == nil then users[uid] = fields[i + 1]; n = n + 1 end
  end
end
`;

const SCRIPTS = {
  // ARGV[3] user id, ARGV[4] user JSON. Returns {changed, online}.
  presenceAdd: `${WALK}
local had = users[ARGV[3]] ~= nil
redis.call('HSET', KEYS[1], ARGV[1] .. '|' .. ARGV[3], ARGV[4])
if not had then n = n + 1 end
return {had and 0 or 1, n}`,
  // ARGV[3] user id. Returns {changed, online}.
  presenceRemove: `local removed = redis.call('HDEL', KEYS[1], ARGV[1] .. '|' .. ARGV[3])
${WALK}
return {(removed == 1 and users[ARGV[3]] == nil) and 1 or 0, n}`,
  // Returns the alive users' JSON.
  presenceList: `${WALK}
local out = {}
for _, json in pairs(users) do table.insert(out, json) end
return out`,
  presenceCount: `${WALK}
return n`,
  // Removes dead nodes' entries. Returns {online, json of each user no alive node has any more}.
  sweep: `${WALK}
local gone = {}
local fields = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(fields) do
  local sep = string.find(f, '|', 1, true)
  local node, uid = string.sub(f, 1, sep - 1), string.sub(f, sep + 1)
  if not alive[node] then
    local json = redis.call('HGET', KEYS[1], f)
    redis.call('HDEL', KEYS[1], f)
    if users[uid] == nil and gone[uid] == nil then gone[uid] = json end
  end
end
local out = {n}
for _, json in pairs(gone) do table.insert(out, json) end
return out`,
  // A token bucket in a hash: ARGV[3] rate per second, ARGV[4] burst. Uses Redis' clock, so
  // every node agrees. Returns 1 when a token was taken.
  takeToken: `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** Envelope on the wire: 4-byte header length, JSON header, then the frame bytes. */
interface Envelope {
  o: string;
  s?: number;
  xc?: string;
  xu?: string;
  b?: 1;
  /** A hint (typing) that a busy member may miss. */
  d?: 1;
  c?: ControlMessage;
}

function encode(nodeId: string, m: BrokerMessage): Buffer {
  const h: Envelope = { o: nodeId };
  if (m.seq !== undefined) h.s = m.seq;
  if (m.exceptConn !== undefined) h.xc = m.exceptConn;
  if (m.exceptUser !== undefined) h.xu = m.exceptUser;
  if (m.binary) h.b = 1;
  if (m.droppable) h.d = 1;
  if (m.control) h.c = m.control;
  const head = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head, m.data]);
}

function decode(room: string, buf: Buffer): { origin: string; message: BrokerMessage } | null {
  if (buf.length < 4) return null;
  const n = buf.readUInt32BE(0);
  if (4 + n > buf.length) return null;
  const h = JSON.parse(buf.subarray(4, 4 + n).toString()) as Envelope;
  const message: BrokerMessage = { room, data: buf.subarray(4 + n), binary: h.b === 1 };
  if (h.s !== undefined) message.seq = h.s;
  if (h.xc !== undefined) message.exceptConn = h.xc;
  if (h.xu !== undefined) message.exceptUser = h.xu;
  if (h.d === 1) message.droppable = true;
  if (h.c !== undefined) message.control = h.c;
  return { origin: h.o, message };
}

/** A sentence for clients while Redis is away. */
export class BrokerUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor() {
    super('the cluster broker is unavailable right now; retry in a moment');
  }
}

export class RedisBroker implements Broker {
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Map<string, BrokerHandler>();
  /** What this node registered, to put back after Redis lost its state. */
  private readonly mine = new Map<string, Map<string, UserRef>>();
  private readonly leaseMs: number;
  private readonly lease: NodeJS.Timeout;
  private lostConnection = false;
  private closed = false;

  constructor(private readonly opts: RedisBrokerOptions) {
    if (opts.nodeId.includes('|')) throw new Error('a node id must not contain "|"');
    this.leaseMs = opts.leaseMs ?? 15_000;
    // Fail fast while Redis is away (no offline queue): callers answer `unavailable`.
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 6), 3000),
    };
    this.cmd = new Redis(opts.url, common);
    this.sub = new Redis(opts.url, { ...common, enableOfflineQueue: true });
    for (const [name, lua] of Object.entries(SCRIPTS)) this.cmd.defineCommand(name, { numberOfKeys: 1, lua });
    for (const conn of [this.cmd, this.sub]) {
      conn.on('error', (err: Error) => this.opts.onError?.(err));
      conn.on('close', () => {
        if (!this.closed) this.lostConnection = true;
      });
    }
    this.cmd.on('ready', () => void this.recovered());
    this.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.onMessage(channel, payload));
    this.lease = setInterval(() => void this.renewLease(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.lease.unref();
  }

  /** Connects both connections and takes the lease. */
  async connect(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.sub.connect()]);
    await this.renewLease();
  }

  get available(): boolean {
    return this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  private async renewLease(): Promise<void> {
    if (this.closed || this.cmd.status !== 'ready') return;
    try {
      await this.cmd.set(nodeKey(this.opts.nodeId), '1', 'PX', this.leaseMs);
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  /** After a lost connection: Redis may have restarted empty, so put our presence back. */
  private async recovered(): Promise<void> {
    if (!this.lostConnection || this.closed) return;
    this.lostConnection = false;
    try {
      await this.renewLease();
      for (const [room, users] of this.mine) {
        for (const user of users.values()) await this.run('presenceAdd', room, user.id, JSON.stringify(user));
      }
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
    this.opts.onRecover?.();
  }

  private onMessage(channel: Buffer, payload: Buffer): void {
    const room = channel.toString().slice(`${PREFIX}r:`.length);
    const handler = this.handlers.get(room);
    if (!handler) return;
    const decoded = decode(room, payload);
    if (!decoded || decoded.origin === this.opts.nodeId) return;
    handler(decoded.message);
  }

  private run(name: ScriptName, room: string, ...args: string[]): Promise<unknown> {
    return this.runOn(name, presenceKey(room), ...args);
  }

  private runOn(name: ScriptName, key: string, ...args: string[]): Promise<unknown> {
    if (this.cmd.status !== 'ready') return Promise.reject(new BrokerUnavailableError());
    const fn = (this.cmd as unknown as Record<ScriptName, (...a: string[]) => Promise<unknown>>)[name];
    return fn.call(this.cmd, key, this.opts.nodeId, nodeKey(''), ...args).catch(() => {
      throw new BrokerUnavailableError();
    });
  }

  async subscribe(room: string, handler: BrokerHandler): Promise<void> {
    this.handlers.set(room, handler);
    await this.sub.subscribe(channelOf(room));
  }

  async unsubscribe(room: string): Promise<void> {
    this.handlers.delete(room);
    if (this.sub.status === 'ready') await this.sub.unsubscribe(channelOf(room));
  }

  publish(message: BrokerMessage): void {
    if (this.cmd.status !== 'ready') return; // the other nodes backfill from the store
    this.cmd.publish(channelOf(message.room), encode(this.opts.nodeId, message)).catch((err: Error) => this.opts.onError?.(err));
  }

  async presenceAdd(room: string, user: UserRef): Promise<PresenceChange> {
    let users = this.mine.get(room);
    if (!users) this.mine.set(room, (users = new Map()));
    users.set(user.id, { id: user.id, name: user.name });
    const [changed, online] = (await this.run('presenceAdd', room, user.id, JSON.stringify({ id: user.id, name: user.name }))) as [number, number];
    return { changed: changed === 1, online };
  }

  async presenceRemove(room: string, userId: string): Promise<PresenceChange> {
    const users = this.mine.get(room);
    users?.delete(userId);
    if (users?.size === 0) this.mine.delete(room);
    const [changed, online] = (await this.run('presenceRemove', room, userId)) as [number, number];
    return { changed: changed === 1, online };
  }

  async presenceList(room: string): Promise<UserRef[]> {
    const list = (await this.run('presenceList', room)) as string[];
    return list.map((json) => JSON.parse(json) as UserRef).sort((a, b) => a.id.localeCompare(b.id));
  }

  async presenceCounts(rooms: string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(rooms.map((r) => this.run('presenceCount', r) as Promise<number>));
    return new Map(rooms.map((r, i) => [r, counts[i] as number]));
  }

  async takeUserToken(userId: string, ratePerSec: number): Promise<boolean> {
    return (await this.runOn('takeToken', `${PREFIX}rate:${userId}`, String(ratePerSec), String(ratePerSec * 2))) === 1;
  }

  /** Drops dead nodes' entries in a room; returns who went offline and the count left. */
  async sweep(room: string): Promise<{ online: number; gone: UserRef[] }> {
    const [online, ...gone] = (await this.run('sweep', room)) as [number, ...string[]];
    return { online, gone: gone.map((json) => JSON.parse(json) as UserRef) };
  }

  async ping(): Promise<void> {
    if (this.cmd.status !== 'ready') throw new BrokerUnavailableError();
    await this.cmd.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.lease);
    // Leave nothing behind: other nodes see our users go at once, not after the lease.
    try {
      if (this.cmd.status === 'ready') {
        for (const [room, users] of this.mine) {
          for (const id of users.keys()) await this.run('presenceRemove', room, id);
        }
        await this.cmd.del(nodeKey(this.opts.nodeId));
      }
    } catch {
      // Redis is away: the lease lapses by itself.
    }
    this.closed = true;
    this.mine.clear();
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

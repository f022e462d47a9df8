// Names of every Redis key and channel of one cluster. All of one room's keys and its channel
// carry the same hash tag, `{r:ROOM}`, so a Redis Cluster (and the shard ring, which routes by
// the same tag) keeps them on one shard, and a script touching them declares keys of one slot.

/** The hash tag of a key or channel: what Redis Cluster hashes (the text in the first `{…}`). */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export class RedisKeys {
  /** `prefix` has no braces (config.ts checks it), so the first `{` is always the tag's. */
  constructor(readonly prefix: string) {}

  /** The room's pub/sub channel. */
  roomChannel(room: string): string {
    return `${this.prefix}{r:${room}}`;
  }

  /** A user's control channel (kicks, bans, attach, disconnect reach every node holding them). */
  userChannel(user: string): string {
    return `${this.prefix}{u:${user}}`;
  }

  /**
   * A key of a presence scope (a room, or `~user:ID` for "is this user online"): `part` names
   * which of the scope's keys (presence.ts decides the parts).
   */
  presence(scope: string, part: string): string {
    return `${this.prefix}{r:${scope}}:p:${part}`;
  }

  /** A user's message bucket (takeUserToken). */
  rate(user: string): string {
    return `${this.prefix}{u:${user}}:rate`;
  }

  /** A key of the whole cluster, not of one room (instance leases). */
  global(name: string): string {
    return `${this.prefix}{g}:${name}`;
  }

  /** The room (or user id) a channel of this prefix belongs to, or null when it is not ours. */
  parseChannel(channel: string): { kind: 'room' | 'user'; id: string } | null {
    const head = `${this.prefix}{`;
    if (!channel.startsWith(head) || !channel.endsWith('}')) return null;
    const body = channel.slice(head.length, -1);
    if (body.startsWith('r:')) return { kind: 'room', id: body.slice(2) };
    if (body.startsWith('u:')) return { kind: 'user', id: body.slice(2) };
    return null;
  }
}

import { ClusterLink } from './redis-cluster-link.js';
import { StandaloneLink, type LinkOptions } from './redis-link.js';
import { ShardedLink } from './redis-shards.js';
import type { RedisLink, RedisLinkEvents } from './redis-types.js';

// Which RedisLink --redis and --redis-cluster describe: a Redis Cluster (seed URLs), several
// independent shards on a hash ring (several URLs), or one server.

export function createRedisLink(urls: string[], cluster: boolean, opts: LinkOptions, events: RedisLinkEvents): RedisLink {
  const list = urls.map((u) => u.trim()).filter((u) => u !== '');
  if (list.length === 0) throw new Error('no Redis URL given (--redis)');
  if (cluster) return new ClusterLink(list, opts, events);
  if (list.length > 1) return new ShardedLink(list, opts, events);
  return new StandaloneLink(list[0] as string, opts, events);
}

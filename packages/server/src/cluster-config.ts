// The cluster options checked together (config.ts calls it): what the nodes of one cluster must
// be given for PostgreSQL and Redis. Returns the sentence for the operator, or null.

interface ClusterOptions {
  postgresUrl: string;
  redisUrl: string;
  redisCluster: 'on' | 'off';
  redisPrefix: string;
  nodeId: string;
}

export function clusterConfigProblem(c: ClusterOptions): string | null {
  if (c.redisUrl && !c.postgresUrl) return '--redis needs --postgres: the nodes of a cluster must share one database';
  if (c.postgresUrl && !/^postgres(ql)?:\/\//.test(c.postgresUrl)) return '--postgres must be a postgres:// URL';
  for (const url of c.redisUrl ? c.redisUrl.split(',') : []) {
    if (!/^rediss?:\/\//.test(url.trim())) return '--redis must be a redis:// or rediss:// URL (several: comma-separated)';
  }
  if (c.redisCluster === 'on' && !c.redisUrl) return '--redis-cluster needs --redis (the seed nodes)';
  if (!/^[A-Za-z0-9:._-]{1,32}$/.test(c.redisPrefix)) {
    return `--redis-prefix must be 1-32 letters, digits or ":._-" (no braces: they would break hash tags), got "${c.redisPrefix}"`;
  }
  if (c.nodeId.includes('|')) return '--node-id must not contain "|"';
  return null;
}

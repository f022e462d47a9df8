import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisArg, RedisRunner, RedisScript } from '../src/broker/redis-types.js';

// A RedisRunner over one plain ioredis client, for tests and benches of presence without the
// broker's link: EVALSHA, loading the script on NOSCRIPT. `down` makes every call fail the way
// an unreachable Redis does (a node cut off, or crashed: it stops talking to Redis).
export class PlainRunner implements RedisRunner {
  down = false;
  private readonly shas = new Map<string, string>();

  constructor(readonly redis: Redis) {}

  async script(s: RedisScript, keys: string[], args: RedisArg[]): Promise<unknown> {
    this.check();
    let sha = this.shas.get(s.lua);
    if (!sha) this.shas.set(s.lua, (sha = createHash('sha1').update(s.lua).digest('hex')));
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return this.redis.eval(s.lua, keys.length, ...keys, ...args);
    }
  }

  async command(name: string, key: string, args: RedisArg[]): Promise<unknown> {
    this.check();
    return this.redis.call(name, key, ...args);
  }

  private check(): void {
    if (this.down) throw Object.assign(new Error('the cluster broker is unavailable right now; retry in a moment'), { code: 'unavailable' });
  }
}

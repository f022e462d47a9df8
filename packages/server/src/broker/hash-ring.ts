import { createHash } from 'node:crypto';

// A consistent-hash ring: each shard owns many points (virtual nodes) on a 32-bit circle and a
// key belongs to the first point at or after its own hash. Adding a shard takes over about
// 1/(n+1) of the keys and moves nothing else; the shards' order in the list does not matter.

/** The first 4 bytes of SHA-1, as an unsigned 32-bit number: stable across processes and versions. */
function point(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

export class HashRing<T> {
  private readonly points: number[] = [];
  private readonly owners: T[] = [];

  /**
   * `shards` maps a stable id (not its position) to what a key resolves to. 1000 points per
   * shard keep each shard's share within a few % of even (the spread shrinks as 1/sqrt(points)).
   */
  constructor(shards: ReadonlyMap<string, T>, vnodes = 1000) {
    if (shards.size === 0) throw new Error('a hash ring needs at least one shard');
    const all: { at: number; id: string; owner: T }[] = [];
    for (const [id, owner] of shards) for (let i = 0; i < vnodes; i++) all.push({ at: point(`${id}#${i}`), id, owner });
    // Ties (vanishingly rare) are broken by id, so every process builds the same ring.
    all.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const p of all) {
      this.points.push(p.at);
      this.owners.push(p.owner);
    }
  }

  /** The shard owning `key`. */
  get(key: string): T {
    const h = point(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.points.length ? 0 : lo] as T;
  }
}

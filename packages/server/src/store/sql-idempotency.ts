import type { Kysely } from 'kysely';
import type { IdempotencyTable } from './schema-idempotency.js';
import type { IdempotencyClaim, IdempotencyLog, IdempotencyRequest } from './store.js';

// The Idempotency-Key log on SQL (SQLite and PostgreSQL): claim with an insert that does nothing
// on conflict, so of two requests racing with one key exactly one runs.

type Db = Kysely<{ idempotency: IdempotencyTable }>;

export class SqlIdempotency implements IdempotencyLog {
  constructor(private readonly db: Db) {}

  async claim(r: IdempotencyRequest, staleBefore: number): Promise<IdempotencyClaim> {
    const row = { caller: r.caller, key: r.key, method: r.method, path: r.path, body_hash: r.bodyHash, ts: r.ts, status: null, response: null };
    // RETURNING works on both engines and says whether the row went in (numInsertedRows does not, on a conflict).
    const ins = await this.db.insertInto('idempotency').values(row).onConflict((oc) => oc.columns(['caller', 'key']).doNothing()).returning('key').executeTakeFirst();
    if (ins) return { state: 'new' };
    // A first request that never finished (its node died) is taken over once it is stale.
    const took = await this.db
      .updateTable('idempotency')
      .set({ method: r.method, path: r.path, body_hash: r.bodyHash, ts: r.ts })
      .where('caller', '=', r.caller)
      .where('key', '=', r.key)
      .where('status', 'is', null)
      .where('ts', '<', staleBefore)
      .executeTakeFirst();
    if (Number(took.numUpdatedRows) > 0) return { state: 'new' };
    const got = await this.db.selectFrom('idempotency').selectAll().where('caller', '=', r.caller).where('key', '=', r.key).executeTakeFirst();
    // Pruned or abandoned between the two statements: the caller may simply retry.
    if (!got) return { state: 'running' };
    const same = got.method === r.method && got.path === r.path && got.body_hash === r.bodyHash;
    if (!same) return { state: 'mismatch', method: got.method, path: got.path };
    if (got.status === null) return { state: 'running' };
    return { state: 'done', status: Number(got.status), response: got.response ?? '' };
  }

  async finish(caller: string, key: string, status: number, response: string): Promise<void> {
    await this.db.updateTable('idempotency').set({ status, response }).where('caller', '=', caller).where('key', '=', key).execute();
  }

  async abandon(caller: string, key: string): Promise<void> {
    await this.db.deleteFrom('idempotency').where('caller', '=', caller).where('key', '=', key).where('status', 'is', null).execute();
  }

  async prune(olderThan: number): Promise<number> {
    const res = await this.db.deleteFrom('idempotency').where('ts', '<', olderThan).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

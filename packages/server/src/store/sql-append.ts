import type { Transaction } from 'kysely';
import { dedupKey, planAppends } from './append-plan.js';
import type { Database, SqlDialectName } from './schema.js';
import type { AppendInput, AppendResult } from './store.js';

/** Rows per multi-row INSERT: stays far below SQLite's and PostgreSQL's bind-parameter limits. */
const INSERT_CHUNK = 200;

/**
 * One transaction for a whole batch of appends through Kysely (PostgreSQL; SQLite has its own
 * prepared-statement path, sqlite-append.ts): seqs, dedup, messages, read cursors.
 */
export async function writeBatchIn(trx: Transaction<Database>, dialect: SqlDialectName, inputs: AppendInput[]): Promise<Array<AppendResult | Error>> {
  const roomIds = [...new Set(inputs.map((i) => i.room))];
  let roomQuery = trx.selectFrom('rooms').select(['id', 'last_seq']).where('id', 'in', roomIds).orderBy('id');
  // PostgreSQL: lock the counters (in id order, so two nodes never deadlock) so concurrent
  // nodes never hand out the same seq. This also orders the dedup check below after any
  // concurrent append to the same room.
  if (dialect === 'postgres') roomQuery = roomQuery.forUpdate();
  const lastSeq = new Map((await roomQuery.execute()).map((r) => [r.id, Number(r.last_seq)]));

  const keyed = inputs.filter((i) => i.clientId !== undefined);
  const known = new Map<string, AppendResult>();
  if (keyed.length > 0) {
    const rows = await trx
      .selectFrom('sends')
      .selectAll()
      .where('user_id', 'in', [...new Set(keyed.map((i) => i.from.id))])
      .where('client_id', 'in', [...new Set(keyed.map((i) => i.clientId as string))])
      .execute();
    for (const r of rows) {
      known.set(dedupKey(r.user_id, r.client_id), { room: r.room_id, seq: Number(r.seq), ts: Number(r.ts), id: r.msg_id, duplicate: true });
    }
  }

  const plan = planAppends(inputs, lastSeq, known);
  for (let i = 0; i < plan.messageRows.length; i += INSERT_CHUNK) {
    await trx.insertInto('messages').values(plan.messageRows.slice(i, i + INSERT_CHUNK)).execute();
  }
  for (let i = 0; i < plan.sendRows.length; i += INSERT_CHUNK) {
    await trx.insertInto('sends').values(plan.sendRows.slice(i, i + INSERT_CHUNK)).execute();
  }
  for (const [room, seq] of plan.lastSeq) {
    await trx.updateTable('rooms').set({ last_seq: seq }).where('id', '=', room).where('last_seq', '<', seq).execute();
  }
  for (const r of plan.readers) {
    await trx
      .updateTable('members')
      .set({ read_seq: r.seq })
      .where('room_id', '=', r.room)
      .where('user_id', '=', r.user)
      .where('read_seq', '<', r.seq)
      .execute();
  }
  return plan.results;
}

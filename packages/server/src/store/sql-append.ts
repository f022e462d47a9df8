import type { Transaction } from 'kysely';
import { dedupKey, planAppends, type AppendPlan, type RoomCounters } from './append-plan.js';
import type { ChangeStep } from './change-plan.js';
import type { Database, SqlDialectName } from './schema.js';
import { appendOutbox } from './outbox-append.js';
import type { OutboxRouting } from './outbox.js';
import { writeOutboxIn } from './sql-outbox.js';
import { loadPostFacts } from './sql-post-guard.js';
import { postGuard, type TurnRow } from './post-guard.js';
import type { AppendInput, AppendResult } from './store.js';
import { loadTargets } from './target-rows.js';

/** Rows per multi-row INSERT: stays far below SQLite's and PostgreSQL's bind-parameter limits. */
const INSERT_CHUNK = 200;

/**
 * One transaction for a whole batch of appends through Kysely (PostgreSQL; SQLite has its own
 * prepared-statement path, sqlite-append.ts): seqs, dedup, messages, changes, read cursors.
 */
export async function writeBatchIn(trx: Transaction<Database>, dialect: SqlDialectName, inputs: AppendInput[], routing?: OutboxRouting): Promise<Array<AppendResult | Error>> {
  const roomIds = [...new Set(inputs.map((i) => i.room))];
  let roomQuery = trx.selectFrom('rooms').select(['id', 'last_seq', 'msg_count']).where('id', 'in', roomIds).orderBy('id');
  // PostgreSQL: lock the counters (in id order, so two nodes never deadlock) so concurrent
  // nodes never hand out the same seq. This also orders the dedup check and the changes' reads
  // below after any concurrent append to the same room.
  if (dialect === 'postgres') roomQuery = roomQuery.forUpdate();
  const counters = new Map<string, RoomCounters>((await roomQuery.execute()).map((r) => [r.id, { lastSeq: Number(r.last_seq), msgCount: Number(r.msg_count) }]));

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

  const targets = await loadTargets(inputs, {
    message: (room, seq) =>
      trx.selectFrom('messages').select(['seq', 'kind', 'user_id', 'user_name', 'ts', 'text', 'mime', 'unsent']).where('room_id', '=', room).where('seq', '=', seq).executeTakeFirst(),
    emoji: (room, seq) =>
      trx
        .selectFrom('reactions')
        .select((eb) => ['emoji', eb.fn.countAll<number>().as('n')])
        .where('room_id', '=', room)
        .where('seq', '=', seq)
        .groupBy('emoji')
        .execute(),
    given: async (room, seq, emoji, user) =>
      (await trx.selectFrom('reactions').select('seq').where('room_id', '=', room).where('seq', '=', seq).where('emoji', '=', emoji).where('user_id', '=', user).executeTakeFirst()) !== undefined,
  });
  const turns = new Map<string, TurnRow>();
  const facts = await loadPostFacts(trx, inputs);
  const plan = planAppends(inputs, counters, known, targets, facts ? postGuard(facts, turns) : undefined);
  await writePlan(trx, plan);
  for (const turn of turns.values()) {
    await trx.insertInto('slow_turns').values(turn).onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ last_at: turn.last_at })).execute();
  }
  if (routing?.active) await writeOutboxIn(trx, dialect, appendOutbox(routing, inputs, plan.results));
  return plan.results;
}

async function writePlan(trx: Transaction<Database>, plan: AppendPlan): Promise<void> {
  for (let i = 0; i < plan.messageRows.length; i += INSERT_CHUNK) {
    await trx.insertInto('messages').values(plan.messageRows.slice(i, i + INSERT_CHUNK)).execute();
  }
  for (let i = 0; i < plan.sendRows.length; i += INSERT_CHUNK) {
    await trx.insertInto('sends').values(plan.sendRows.slice(i, i + INSERT_CHUNK)).execute();
  }
  for (let i = 0; i < plan.mentionRows.length; i += INSERT_CHUNK) {
    await trx.insertInto('mentions').values(plan.mentionRows.slice(i, i + INSERT_CHUNK)).onConflict((oc) => oc.doNothing()).execute();
  }
  for (const step of plan.changes.steps) await writeStep(trx, step);
  for (const [room, n] of plan.counters) {
    await trx.updateTable('rooms').set({ last_seq: n.lastSeq, msg_count: n.msgCount }).where('id', '=', room).where('last_seq', '<', n.lastSeq).execute();
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
}

/** One change step, in plan order (see ChangeWrites). */
async function writeStep(trx: Transaction<Database>, step: ChangeStep): Promise<void> {
  switch (step.kind) {
    case 'update':
      await trx.updateTable('messages').set(step.set).where('room_id', '=', step.room).where('seq', '=', step.seq).execute();
      return;
    case 'erase':
      await trx.updateTable('messages').set({ text: null, meta: null }).where('room_id', '=', step.room).where('target', '=', step.seq).where('kind', '=', 'edit').execute();
      await trx.deleteFrom('reactions').where('room_id', '=', step.room).where('seq', '=', step.seq).execute();
      await trx.deleteFrom('mentions').where('room_id', '=', step.room).where('seq', '=', step.seq).execute();
      return;
    case 'react':
      await trx.insertInto('reactions').values(step.row).onConflict((oc) => oc.doNothing()).execute();
      return;
    case 'unreact': {
      const r = step.row;
      const gone = await trx
        .deleteFrom('reactions')
        .where('room_id', '=', r.room_id)
        .where('seq', '=', r.seq)
        .where('emoji', '=', r.emoji)
        .where('user_id', '=', r.user_id)
        .returning('ts')
        .executeTakeFirst();
      // The emoji keeps its place (the time it was first given) while anyone still gives it.
      if (gone) {
        await trx.updateTable('reactions').set({ ts: gone.ts }).where('room_id', '=', r.room_id).where('seq', '=', r.seq).where('emoji', '=', r.emoji).where('ts', '>', gone.ts).execute();
      }
      return;
    }
  }
}

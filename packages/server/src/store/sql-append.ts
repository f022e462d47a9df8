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
import { lockCounters, RoomLockedError, writeCounters } from './pg-append.js';

/** Rows per multi-row INSERT: stays far below SQLite's and PostgreSQL's bind-parameter limits. */
const INSERT_CHUNK = 200;

/**
 * One transaction for a whole batch of appends through Kysely (PostgreSQL; SQLite has its own
 * prepared-statement path, sqlite-append.ts): seqs, dedup, messages, changes, read cursors.
 */
export async function writeBatchIn(trx: Transaction<Database>, dialect: SqlDialectName, all: AppendInput[], routing?: OutboxRouting): Promise<Array<AppendResult | Error>> {
  const roomIds = [...new Set(all.map((i) => i.room))];
  let counters: Map<string, RoomCounters>;
  let busy = new Set<string>();
  if (dialect === 'postgres') {
    // Lock the counters so concurrent nodes never hand out the same seq; this also orders the
    // dedup check and the changes' reads below after any concurrent append to the same room.
    // Rooms another transaction holds are skipped, not waited for: their inputs come back as
    // RoomLockedError (the batcher retries them) and the batch's other rooms go ahead.
    ({ counters, busy } = await lockCounters(trx, roomIds));
  } else {
    const rows = await trx.selectFrom('rooms').select(['id', 'last_seq', 'msg_count']).where('id', 'in', roomIds).execute();
    counters = new Map(rows.map((r) => [r.id, { lastSeq: Number(r.last_seq), msgCount: Number(r.msg_count) }]));
  }
  const inputs = busy.size === 0 ? all : all.filter((i) => !busy.has(i.room));
  if (inputs.length === 0) return all.map((i) => new RoomLockedError(i.room));

  const keyed = inputs.filter((i) => i.clientId !== undefined);
  const known = new Map<string, AppendResult>();
  if (keyed.length > 0) {
    // The exact (user, client id) pairs: one index probe each, not every user × every id.
    const pairs = [...new Map(keyed.map((i) => [dedupKey(i.from.id, i.clientId as string), [i.from.id, i.clientId as string] as const])).values()];
    const rows = await trx
      .selectFrom('sends')
      .selectAll()
      .where((eb) => eb(eb.refTuple('user_id', 'client_id'), 'in', pairs.map(([u, c]) => eb.tuple(u, c))))
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
  await writePlan(trx, dialect, plan);
  for (const turn of turns.values()) {
    await trx.insertInto('slow_turns').values(turn).onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet({ last_at: turn.last_at })).execute();
  }
  if (routing?.active) await writeOutboxIn(trx, dialect, appendOutbox(routing, inputs, plan.results));
  if (busy.size === 0) return plan.results;
  const results = plan.results[Symbol.iterator]();
  return all.map((i) => (busy.has(i.room) ? new RoomLockedError(i.room) : (results.next().value as AppendResult | Error)));
}

async function writePlan(trx: Transaction<Database>, dialect: SqlDialectName, plan: AppendPlan): Promise<void> {
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
  if (dialect === 'postgres') {
    await writeCounters(trx, plan.counters, plan.readers);
    return;
  }
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

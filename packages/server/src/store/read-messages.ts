import { quoteText, type ReactionCount, type ReplyQuote } from '@roomcast/protocol';
import { sql, type Kysely } from 'kysely';
import { toMessage, type MessageRow } from './rows.js';
import type { Database } from './schema.js';
import type { StoredMessage } from './store.js';

// Messages as they are now: a row holds a message's own state (edited text, unsent); its
// reaction counts and the quote of the message it answers come from other rows, read here with
// one query each per page, not one per message.

/** Rows per `in (…)` list: far below both engines' bind-parameter limits. */
const CHUNK = 500;

/** Turns a page of rows into stream events, with reactions (`me` for `viewer`) and reply quotes. */
export async function readMessages(db: Kysely<Database>, rows: MessageRow[], viewer?: string): Promise<StoredMessage[]> {
  const out = rows.map(toMessage);
  const live = out.filter((m) => m.kind === 'msg' && !m.unsent);
  if (live.length === 0) return out;
  // One query each for the whole page, even when it spans rooms (search): the rooms' and seqs'
  // lists select a superset, the (room, seq) pairs pick from it.
  await addReactions(db, live, viewer);
  await addQuotes(db, live.filter((m) => m.replyTo !== undefined));
  return out;
}

const pairKey = (room: string, seq: number): string => `${room}\u0000${seq}`;

/** The quote of message `seq` of a room as a reply shows it. */
export function quoteOf(row: Pick<MessageRow, 'seq' | 'user_id' | 'user_name' | 'text' | 'mime' | 'unsent'>): ReplyQuote {
  const seq = Number(row.seq);
  if (Number(row.unsent) === 1) return { seq, unsent: true };
  const q: ReplyQuote = { seq, from: { id: row.user_id, name: row.user_name } };
  if (row.text !== null) q.text = quoteText(row.text);
  else if (row.mime !== null) q.mime = row.mime;
  return q;
}

async function addReactions(db: Kysely<Database>, msgs: StoredMessage[], viewer: string | undefined): Promise<void> {
  const byKey = new Map(msgs.map((m) => [pairKey(m.room, m.seq), m]));
  for (let i = 0; i < msgs.length; i += CHUNK) {
    const chunk = msgs.slice(i, i + CHUNK);
    const rows = await db
      .selectFrom('reactions')
      .select((eb) => [
        'room_id',
        'seq',
        'emoji',
        eb.fn.countAll<number>().as('n'),
        eb.fn.min('ts').as('first'),
        eb.fn.max(sql<number>`case when user_id = ${viewer ?? ''} then 1 else 0 end`).as('me'),
      ])
      .where('room_id', 'in', [...new Set(chunk.map((m) => m.room))])
      .where('seq', 'in', [...new Set(chunk.map((m) => m.seq))])
      .groupBy(['room_id', 'seq', 'emoji'])
      .execute();
    const grouped = new Map<StoredMessage, Array<ReactionCount & { first: number }>>();
    for (const r of rows) {
      const m = byKey.get(pairKey(r.room_id, Number(r.seq)));
      if (!m) continue;
      let list = grouped.get(m);
      if (!list) grouped.set(m, (list = []));
      list.push({ emoji: r.emoji, count: Number(r.n), me: Number(r.me) === 1, first: Number(r.first) });
    }
    for (const [m, list] of grouped) {
      list.sort((a, b) => a.first - b.first || (a.emoji < b.emoji ? -1 : 1));
      m.reactions = list.map(({ emoji, count, me }) => ({ emoji, count, me }));
    }
  }
}

async function addQuotes(db: Kysely<Database>, replies: StoredMessage[]): Promise<void> {
  for (let i = 0; i < replies.length; i += CHUNK) {
    const chunk = replies.slice(i, i + CHUNK);
    const rows = await db
      .selectFrom('messages')
      .select(['room_id', 'seq', 'user_id', 'user_name', 'text', 'mime', 'unsent'])
      .where('room_id', 'in', [...new Set(chunk.map((m) => m.room))])
      .where('seq', 'in', [...new Set(chunk.map((m) => m.replyTo!.seq))])
      .execute();
    const quotes = new Map(rows.map((r) => [pairKey(r.room_id, Number(r.seq)), quoteOf(r)]));
    for (const m of chunk) {
      const q = quotes.get(pairKey(m.room, m.replyTo!.seq));
      // The answered message may be gone (retention): the reply keeps only its seq.
      if (q) m.replyTo = q;
    }
  }
}

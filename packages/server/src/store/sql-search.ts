import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { MESSAGE_COLUMNS, type MessageRow } from './rows.js';
import type { Database, SqlDialectName } from './schema.js';
import type { SearchQuery } from './store.js';

// `search`: messages whose text contains the query, in the searching user's rooms, newest first.
//
// A scan, not a text index. Any substring must match, Chinese included: a two-character query
// such as 你好 has no trigram, so neither SQLite's FTS5 trigram tokenizer nor PostgreSQL's
// pg_trgm can answer it from an index, and a word tokenizer cannot cut Chinese into words. A
// text index would also have to forget unsent and edited texts exactly (the promise is that an
// unsent text is gone from the database). Times at 100,000 messages: docs/benchmarks.md, "Search".
//
// The scan walks messages newest first along the index on ts, a window of WINDOW messages at a
// time, and stops once it has `limit` hits: a common word costs one window. SQLite runs on the
// event loop, so there it goes on window by window, letting the loop run in between: a search
// of a big database never holds the server more than a few milliseconds. PostgreSQL, once the
// first window fell short, gets the rest as one query (for a rare word a sequential scan, which
// it plans better than many windows). When the rooms searched hold no more than a window of
// events, they are read through their own index in one query instead (a walk would read every
// room's messages to find theirs).

/** Messages read per window (on SQLite about 4 ms of a 2-vCPU VM's time when nothing matches). */
const WINDOW = 8192;

/** Escapes LIKE's wildcards (and the escape character itself): the query is matched literally. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Rows of `msg` events not unsent whose text contains `query.q` (letters in any case: ASCII ones
 * on SQLite, the database locale's on PostgreSQL), in rooms `query.userId` is a member of (or
 * `query.room` only, if they are a member of it), with ts below `query.before` when given,
 * ordered ts descending, then seq descending, at most `query.limit`. `window`: messages per
 * window of the walk (tests make it small).
 */
export async function searchMessages(db: Kysely<Database>, dialect: SqlDialectName, query: SearchQuery, window = WINDOW): Promise<MessageRow[]> {
  if ((await storedIn(db, query)) <= window) return hits(db, dialect, query, query.limit, query.before, false).execute();
  const out: MessageRow[] = [];
  let below = query.before;
  for (let first = true; ; first = false) {
    // PostgreSQL plans the rest as one query once the first window fell short; SQLite goes on.
    const from = dialect === 'postgres' && !first ? undefined : await windowStart(db, below, window);
    let page = hits(db, dialect, query, query.limit - out.length, below, true);
    if (from) page = page.where('ts', '>=', Number(from.ts));
    out.push(...(await page.execute()));
    if (!from || out.length >= query.limit) return out;
    // Messages sharing the window start's ts were in this window: the next one ends below it.
    below = Number(from.ts);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The ts of the `size`th newest message (any room's) below `below`, read from the ts index alone. */
function windowStart(db: Kysely<Database>, below: number | undefined, size: number): Promise<{ ts: number } | undefined> {
  let q = db.selectFrom('messages').select('ts');
  if (below !== undefined) q = q.where('ts', '<', below);
  return q.orderBy('ts', 'desc').limit(1).offset(size - 1).executeTakeFirst();
}

/** Events (messages and changes) stored in the rooms a query searches, from above: their last seqs. */
async function storedIn(db: Kysely<Database>, query: SearchQuery): Promise<number> {
  let q = db
    .selectFrom('members')
    .innerJoin('rooms', 'rooms.id', 'members.room_id')
    .select((eb) => eb.fn.sum<number>('rooms.last_seq').as('n'))
    .where('members.user_id', '=', query.userId);
  if (query.room !== undefined) q = q.where('members.room_id', '=', query.room);
  const row = await q.executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Hits with ts below `below`, newest first, at most `limit`. `walk`: along the ts index (the
 * caller bounds the window); otherwise through the rooms' own index.
 */
function hits(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  query: SearchQuery,
  limit: number,
  below: number | undefined,
  walk: boolean,
): SelectQueryBuilder<Database, 'messages', MessageRow> {
  // SQLite's LIKE ignores the case of ASCII letters. PostgreSQL's needs ILIKE, which folds every
  // letter of the database's locale but lowercases each text to do it (about three times LIKE's
  // cost): a query without a letter that has a case (Chinese, digits) is the same with LIKE.
  const like = sql.raw(dialect === 'postgres' && query.q.toLowerCase() !== query.q.toUpperCase() ? 'ilike' : 'like');
  // `+room_id` is a room term no index can serve: else SQLite reads the user's rooms through their
  // room index and sorts all their hits, several times slower than the walk. The text test comes
  // first: SQLite checks the terms in the order written.
  const room = sql<string>`${sql.raw(walk && dialect === 'sqlite' ? '+' : '')}room_id`;
  // A query of one or two characters has no trigram: with the optional pg_trgm index
  // (docs/benchmarks.md, "Search") PostgreSQL may plan it as a read of that whole index. `text
  // || ''` is not the indexed expression, so such a query walks the ts index instead.
  const text = sql.raw(dialect === 'postgres' && [...query.q].length < 3 ? "(text || '')" : 'text');
  let q = db
    .selectFrom('messages')
    .select(MESSAGE_COLUMNS)
    .where(sql<boolean>`${text} ${like} ${likePattern(query.q)} escape '\\'`)
    .where('kind', '=', 'msg')
    .where('unsent', '=', 0)
    .where(room, 'in', (eb) => eb.selectFrom('members').select('members.room_id').where('members.user_id', '=', query.userId));
  if (query.room !== undefined) q = q.where(room, '=', query.room);
  if (below !== undefined) q = q.where('ts', '<', below);
  return q.orderBy('ts', 'desc').orderBy('seq', 'desc').orderBy('room_id', 'desc').limit(limit);
}

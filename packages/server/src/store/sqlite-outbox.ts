import type BetterSqlite3 from 'better-sqlite3';
import type { CheckRow } from './outbox-append.js';
import type { OutboxInsert } from './outbox.js';

/**
 * The outbox writes of SQLite's group commit (sqlite-append.ts), as prepared statements. Returns
 * whether anything was written. routing.written() is called by the caller once the transaction
 * function returns: better-sqlite3 commits synchronously, and the wake-up runs a turn later.
 */
export function outboxStatements(db: BetterSqlite3.Database): { write(w: { rows: OutboxInsert[]; checks: CheckRow[] }): boolean } {
  // Prepared on first use: a server without webhooks never touches the tables.
  let st: { row: BetterSqlite3.Statement; check: BetterSqlite3.Statement } | undefined;
  const prepared = () =>
    (st ??= {
      row: db.prepare(
        'insert into webhook_outbox (event_id, endpoint, type, lane, body, created_at, next_at, attempts, lease_owner, lease_until, last_error) ' +
          'values (@event_id, @endpoint, @type, @lane, @body, @created_at, @next_at, @attempts, @lease_owner, @lease_until, @last_error)',
      ),
      // One pending check per room: later messages only move its end.
      check: db.prepare(
        'insert into webhook_checks (room_id, from_seq, to_seq, due_at, lease_owner, lease_until) values (@room_id, @from_seq, @to_seq, @due_at, @lease_owner, @lease_until) ' +
          'on conflict (room_id) do update set to_seq = max(webhook_checks.to_seq, excluded.to_seq)',
      ),
    });
  return {
    write(w) {
      if (w.rows.length === 0 && w.checks.length === 0) return false;
      const { row, check } = prepared();
      for (const r of w.rows) row.run(r);
      for (const c of w.checks) check.run(c);
      return true;
    },
  };
}

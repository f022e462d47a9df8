import type BetterSqlite3 from 'better-sqlite3';
import { StoreDamagedError, type DamageWatch } from './guard.js';

// A damaged SQLite file must not be served: pages it cannot read raise SQLITE_CORRUPT, but pages
// that still parse can silently yield fewer rows (or none), which clients would take for the
// truth. So the file is checked at start, and the first sign of damage at run time stops the
// store: every call is refused with `internal` and /readyz reports it, until an operator acts.

export type IntegrityMode = 'quick' | 'full' | 'off';

/** Error codes (extended ones included) that mean the file, or the disk under it, is bad. */
const DAMAGE_CODE = /^SQLITE_(CORRUPT|NOTADB|IOERR)/;

/** The driver's error code, e.g. SQLITE_CORRUPT (better-sqlite3 sets `code`). */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDamageError(err: unknown): boolean {
  return DAMAGE_CODE.test(sqliteCode(err) ?? '');
}

/**
 * Runs `PRAGMA quick_check` (or `integrity_check` for `full`) and returns what it found: one
 * entry per problem, none when the file is sound. An unreadable file (not a database, a
 * schema page that does not parse) throws instead of answering; that is returned as a problem.
 */
export function checkIntegrity(db: BetterSqlite3.Database, mode: 'quick' | 'full'): string[] {
  try {
    const rows = db.pragma(mode === 'full' ? 'integrity_check' : 'quick_check') as Array<Record<string, string>>;
    const lines = rows.flatMap((r) => String(Object.values(r)[0]).split('\n'));
    return lines.filter((l) => l !== 'ok' && l !== '' && !l.startsWith('*** in database'));
  } catch (err) {
    if (!isDamageError(err)) throw err;
    return [describeError(err)];
  }
}

export function describeError(err: unknown): string {
  const code = sqliteCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code ? `${code}: ${message}` : message;
}

export interface DamageReport {
  /** The database file. */
  file: string;
  /** What SQLite reported: the check's lines, or the failing call's error. */
  problems: string[];
  /** How it was found: the check at start, opening the file, or a call while serving. */
  foundBy: 'check' | 'open' | 'query';
  /** The store call that failed (foundBy `query`). */
  method?: string;
}

/** Problems quoted in the log line; the rest are counted (the doctor lists them all). */
const QUOTED_PROBLEMS = 3;

/**
 * The one log line an operator needs: which file, what SQLite said, and what to do. `serving`:
 * said by a server that goes on running (not by a command that stops).
 */
export function describeDamage(r: DamageReport, serving = true): string {
  const quoted = r.problems.slice(0, QUOTED_PROBLEMS).join('; ');
  const more = r.problems.length > QUOTED_PROBLEMS ? ` (and ${r.problems.length - QUOTED_PROBLEMS} more)` : '';
  const how = r.foundBy === 'check' ? 'the integrity check at start found' : r.foundBy === 'open' ? 'opening it failed with' : `${r.method ?? 'a query'} failed with`;
  return (
    `the SQLite database ${r.file} is damaged: ${how} ${quoted}${more}. ` +
    (serving ? 'roomcast keeps running but refuses every request and /readyz answers 503. Stop it, then restore' : 'Restore') +
    ' the file from a backup made with "roomcast backup DIR FILE", ' +
    'or inspect it with "roomcast doctor DIR" (docs/deployment.md, "Backups and damaged databases").'
  );
}

/** Problems kept in the log line's fields: the first ones say the most, the rest follow from them. */
const LOGGED_PROBLEMS = 10;

/** The structured fields of that log line. */
export function damageFields(r: DamageReport): Record<string, unknown> {
  return { file: r.file, foundBy: r.foundBy, method: r.method, problems: r.problems.slice(0, LOGGED_PROBLEMS), problemCount: r.problems.length };
}

/**
 * The damaged-or-not state of one SQLite store, as guardStore consults it. Trips once: the
 * first report is the one logged, and it stays damaged until the process restarts.
 */
export class DamageLatch implements DamageWatch {
  private report: DamageReport | null = null;

  constructor(
    private readonly file: string,
    private readonly onDamage: (report: DamageReport) => void = () => {},
  ) {}

  get state(): DamageReport | null {
    return this.report;
  }

  /** Records damage found outside a store call (the check at start, opening the file). */
  trip(report: Omit<DamageReport, 'file'>): void {
    if (this.report) return;
    this.report = { file: this.file, ...report };
    this.onDamage(this.report);
  }

  refusal(method: string): Error | null {
    if (!this.report) return null;
    // /readyz shows ping's message to whoever asks: the cause, not the file's path.
    if (method === 'ping') return new StoreDamagedError(this.report, `the database is damaged (${this.report.problems[0] ?? 'see the server log'}); see the server log`);
    return new StoreDamagedError(this.report);
  }

  damaged(err: unknown, method: string): Error | null {
    if (!isDamageError(err)) return null;
    this.trip({ foundBy: 'query', method, problems: [describeError(err)] });
    return new StoreDamagedError(err);
  }
}

import { describe, expect, it } from 'vitest';
import { toErrorBody } from '../../src/core/errors.js';
import { DamageLatch, type DamageReport } from '../../src/store/integrity.js';
import { guardStore } from '../../src/store/guard.js';

/** A driver error as better-sqlite3 (or pg, or Node) raises it: a message and a `code`. */
function driverError(code: string): Error {
  return Object.assign(new Error(`driver says ${code}`), { code });
}

/** A store double whose calls fail with whatever error is queued, and count how often they ran. */
function failing() {
  let next: Error | null = null;
  const calls: string[] = [];
  const target = {
    async ping() {
      calls.push('ping');
    },
    async messagesAfter() {
      calls.push('messagesAfter');
      if (next) throw next;
      return [];
    },
    async close() {
      calls.push('close');
    },
  };
  const reports: DamageReport[] = [];
  const store = guardStore(target, new DamageLatch('/data/roomcast.db', (r) => reports.push(r)));
  return { store, calls, reports, failWith: (e: Error | null) => (next = e) };
}

describe('guardStore with a DamageLatch', () => {
  it.each(['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_NOTADB', 'SQLITE_IOERR', 'SQLITE_IOERR_SHORT_READ'])(
    '%s: internal, reported once, and every later call but close is refused without running',
    async (code) => {
      const s = failing();
      s.failWith(driverError(code));
      const err = await s.store.messagesAfter().catch((e: unknown) => e);
      const { body, unexpected } = toErrorBody(err);
      expect(body).toEqual({ code: 'internal', message: expect.stringMatching(/^the server's database is damaged; the operator has been told/) });
      expect(unexpected).toBe(false);
      expect(s.reports).toEqual([{ file: '/data/roomcast.db', foundBy: 'query', method: 'messagesAfter', problems: [`${code}: driver says ${code}`] }]);

      s.failWith(null);
      await expect(s.store.messagesAfter()).rejects.toMatchObject({ code: 'internal' });
      await expect(s.store.ping()).rejects.toThrow(/^the database is damaged \(SQLITE_[A-Z_]+: driver says/);
      await s.store.close();
      expect(s.calls).toEqual(['messagesAfter', 'close']);
      expect(s.reports).toHaveLength(1);
    },
  );

  it.each(['SQLITE_BUSY', 'SQLITE_FULL', 'SQLITE_READONLY', '57P01', 'ECONNREFUSED'])('%s: unavailable (retry), and the store goes on', async (code) => {
    const s = failing();
    s.failWith(driverError(code));
    await expect(s.store.messagesAfter()).rejects.toMatchObject({ code: 'unavailable' });
    s.failWith(null);
    await expect(s.store.messagesAfter()).resolves.toEqual([]);
    await expect(s.store.ping()).resolves.toBeUndefined();
    expect(s.reports).toEqual([]);
  });
});

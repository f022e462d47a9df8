import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/wait.js';
import { serversPerTest, TestClient, type Frame } from './helpers.js';

// The resume burst (welcome.limits.resumeBurst) as a hostile client sees it: frames beyond the
// connection's rate right after welcome, out of a per-user budget that reconnecting does not
// refill. --rate 1 (bursts of 2) keeps the bucket's own refill out of the counts.

/** Sends `n` pings with refs at once and counts the replies: ok, and refused for the rate. */
async function burst(c: TestClient, n: number, from: number): Promise<{ ok: number; limited: number }> {
  for (let i = 0; i < n; i++) c.send({ op: 'ping', ref: from + i });
  const mine = (f: Frame) => typeof f.ref === 'number' && f.ref >= from && f.ref < from + n;
  const replies: Frame[] = [];
  while (replies.length < n) replies.push(await c.next('reply', mine));
  return { ok: replies.filter((r) => r.ok).length, limited: replies.filter((r) => !r.ok && r.error.code === 'rate_limited').length };
}

describe('resume burst', () => {
  const start = serversPerTest();

  it('is granted once per user and budget: a reconnect within the refill time gets (almost) nothing fresh', async () => {
    const server = await start({ ratePerSec: 1 });
    // A brand-new guest has no room and so nothing to resume: no burst.
    const fresh = await server.connect({ name: 'Mallory' });
    expect(fresh.welcome.limits.resumeBurst).toBe(0);
    await fresh.ok('create', { room: 'den' });
    const token = fresh.welcome.guestToken as string;
    await fresh.close();

    const second = await server.connect({ guest: token });
    expect(second.welcome.limits.resumeBurst).toBe(200);
    // 2 of the bucket, 200 of the burst (a token or two of refill at most), the rest refused.
    const a = await burst(second, 215, 1000);
    expect(a.ok).toBeGreaterThanOrEqual(202);
    expect(a.ok).toBeLessThanOrEqual(204);
    expect(a.limited).toBe(215 - a.ok);
    await second.close();

    // Reconnecting for a fresh burst: the budget refills at 200 a minute, so only a trickle.
    const third = await server.connect({ guest: token });
    const granted = third.welcome.limits.resumeBurst ?? 0;
    expect(granted).toBeLessThan(10);
    const b = await burst(third, 2 + granted + 10, 2000);
    expect(b.ok).toBeLessThanOrEqual(2 + granted + 2);
    expect(b.limited).toBeGreaterThanOrEqual(8);
    await third.close();
  });

  it('shares one budget between connections open at once, and returns what a closed one did not spend', async () => {
    const server = await start({ ratePerSec: 1 });
    const first = await server.connect({ name: 'Mallory' });
    await first.ok('create', { room: 'den' });
    const token = first.welcome.guestToken as string;
    await first.close();
    const a = await server.connect({ guest: token });
    const b = await server.connect({ guest: token });
    expect(a.welcome.limits.resumeBurst).toBe(200);
    expect(b.welcome.limits.resumeBurst).toBe(0);
    await a.close(); // spent nothing: the 200 go back to the user
    await waitClosed(server, 1); // the server handles a close a few turns after the socket's
    const c = await server.connect({ guest: token });
    expect(c.welcome.limits.resumeBurst).toBeGreaterThanOrEqual(199);
  });

  it('is capped by --user-rate, and absent without a rate limit', async () => {
    const capped = await start({ ratePerSec: 20, userRate: 5 });
    const a = await capped.connect({ name: 'Ann' });
    await a.ok('create', { room: 'r1' });
    const a2 = await capped.connect({ guest: a.welcome.guestToken as string });
    expect(a2.welcome.limits.resumeBurst).toBe(10);
    const open = await start({ ratePerSec: 0 });
    const b = await open.connect({ name: 'Bo' });
    await b.ok('create', { room: 'r2' });
    const b2 = await open.connect({ guest: b.welcome.guestToken as string });
    expect(b2.welcome.limits.resumeBurst).toBe(0);
  });
});

/** Waits until the server holds `n` sessions (a close is handled a few turns after the socket's). */
async function waitClosed(server: { core: { registry: { sessions: { size: number } } } }, n: number): Promise<void> {
  await waitUntil(() => server.core.registry.sessions.size === n, { what: `${n} open sessions`, seen: () => String(server.core.registry.sessions.size) });
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode } from '@roomcast/protocol';
import type { RoomcastClient } from '../src/client.js';
import type { ErrorContext } from '../src/types.js';
import { connect, nextEvent, serverPerSuite } from './helpers.js';

// Disconnected by an administrator (admin API, close 4410): the SDK stops instead of coming
// straight back, and says why in a way a UI can show.

const KEY = 'sdk-admin-key-0123456789';

describe('disconnected by an administrator', () => {
  const server = serverPerSuite({ apiKey: KEY, httpRate: 0 });
  const clients: RoomcastClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('stops reconnecting and ends disconnected with code 4410 and a forbidden error', async () => {
    const c = await connect(server.wsUrl, { name: 'Dana' }, clients);
    const errors: ErrorContext[] = [];
    c.on('error', (e) => errors.push(e));
    const retries: number[] = [];
    c.on('retry', (r) => retries.push(r.retryAt));
    const ended = nextEvent(c, 'state');
    const res = await fetch(`${server.url}/api/users/${c.user?.id}/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    // Straight to disconnected: a lost connection that will be retried goes to `connecting`.
    expect(await ended).toMatchObject({ state: 'disconnected', previous: 'connected', code: CloseCode.Disconnected, reason: 'disconnected by an administrator' });
    expect(c.state).toBe('disconnected');
    expect(retries).toEqual([]);
    expect(errors.map((e) => ({ code: e.error.code, closeCode: e.error.closeCode }))).toEqual([{ code: 'forbidden', closeCode: 4410 }]);
    expect(errors[0]?.error.message).toMatch(/disconnected by an administrator/);
    // The server lets go of the user once the close completes; nothing dials again (no retry was armed).
    await vi.waitFor(() => expect(server.core.registry.hasUser(c.user?.id as string)).toBe(false));
    expect(c.state).toBe('disconnected');
  });
});

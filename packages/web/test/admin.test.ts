import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mintToken } from '../../server/src/auth/mint.js';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { adminApi, AdminApiError } from '../src/lib/admin-api.js';
import { connected, launch, newUser, preflight, shot, signIn, type User } from './browser.js';

// The admin page beyond its numbers: rooms (search, members, delete) and users online
// (disconnect), through the admin HTTP API, with the server's API key pasted on the page (kept in
// sessionStorage only) or an admin's own token.

const skip = preflight();
const API_KEY = 'admin-page-test-api-key-0123456789';
const SECRET = 'admin-page-test-jwt-secret-long-enough-1';

async function createRoom(p: Page, title: string): Promise<{ id: string; link: string }> {
  await p.getByTestId('new-room').click();
  await p.getByLabel('Room name').fill(title);
  await p.getByTestId('create-submit').click();
  const link = await p.getByTestId('share-link').inputValue();
  await p.getByTestId('open-created').click();
  await p.getByTestId('room-title').filter({ hasText: title }).waitFor();
  return { id: decodeURIComponent(link.split('#/r/')[1]!), link };
}

describe('the admin API wrapper (lib/admin-api.ts)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends the credential as a bearer token and leaves empty parameters out', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ rooms: [], next: 'c2' }), { status: 200 });
    });
    const page = await adminApi('k-123').rooms({ q: '', limit: 5, cursor: undefined });
    expect(page).toEqual({ items: [], next: 'c2' });
    expect(calls[0]!.url).toBe('/api/rooms?limit=5');
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer k-123');
    await adminApi('k').members('a b/c', { cursor: 'x' });
    expect(calls[1]!.url).toBe('/api/rooms/a%20b%2Fc/members?cursor=x');
  });

  it('turns the server’s {error:{code,message}} and a network failure into AdminApiError', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { code: 'forbidden', message: 'admins only' } }), { status: 403 }));
    const refused = await adminApi('k').disconnect('u1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdminApiError);
    expect(refused).toMatchObject({ code: 'forbidden', message: 'admins only', status: 403 });
    vi.stubGlobal('fetch', async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(await adminApi('k').users().catch((e: unknown) => e)).toMatchObject({ code: 'http_502', status: 502 });
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(await adminApi('k').room('r').catch((e: unknown) => e)).toMatchObject({ code: 'network', status: 0 });
  });
});

describe.skipIf(skip !== null)('admin page in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let bob: User;
  let base: string;
  let ops = { id: '', link: '' };

  beforeAll(async () => {
    server = await startTestServer({ apiKey: API_KEY, auth: 'both', jwtSecret: SECRET });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob] = await Promise.all([newUser(browser), newUser(browser)]);
    await alice.page.goto(`${base}/`);
    await signIn(alice.page, 'Alice');
    await createRoom(alice.page, 'Design review');
    ops = await createRoom(alice.page, 'Ops war room');
    await bob.page.goto(ops.link);
    await signIn(bob.page, 'Bob');
    await bob.page.locator(`[data-testid="chat"][data-room="${ops.id}"]`).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a guest on localhost the stats and how to get admin access', async () => {
    const p = alice.page;
    await p.goto(`${base}/#/admin`);
    await p.getByTestId('admin').waitFor();
    await p.waitForFunction(() => Number(document.querySelector('[data-testid="stat-connections"]')?.textContent?.replace(/[,\s]/g, '')) >= 2);
    const access = p.getByTestId('admin-access');
    await access.getByText('--api-key').waitFor();
    await access.getByText('admin claim').waitFor();
    expect(await p.getByTestId('admin-rooms').count()).toBe(0);
    expect(await p.getByTestId('admin-users').count()).toBe(0);
    await shot(p, 'admin-01-access');
  });

  it('refuses a wrong API key, takes the right one and keeps it in sessionStorage only', async () => {
    const p = alice.page;
    await p.getByLabel('Server API key').fill('not-the-key-at-all-000');
    await p.getByTestId('admin-key-submit').click();
    await p.getByTestId('admin-key-error').waitFor();
    expect(await p.getByTestId('admin-rooms').count()).toBe(0);
    await p.getByLabel('Server API key').fill(API_KEY);
    await p.getByTestId('admin-key-submit').click();
    await p.getByTestId('admin-rooms').waitFor();
    await p.getByTestId('admin-users').waitFor();
    const stored = await p.evaluate(() => ({
      session: Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k) ?? ''),
      local: Object.keys(localStorage).map((k) => localStorage.getItem(k) ?? ''),
    }));
    expect(stored.session).toContain(API_KEY);
    expect(stored.local.some((v) => v.includes(API_KEY))).toBe(false);
    // A reload of the tab keeps it; the form is gone.
    await p.reload();
    await p.getByTestId('admin-rooms').waitFor();
    expect(await p.getByTestId('admin-access').count()).toBe(0);
  });

  it('lists and searches rooms, and shows a room’s members', async () => {
    const p = alice.page;
    const rows = p.getByTestId('admin-room');
    await rows.filter({ hasText: 'Design review' }).waitFor();
    await rows.filter({ hasText: 'Ops war room' }).waitFor();
    await p.getByTestId('admin-room-search').fill('war ROOM');
    await p.waitForFunction(() => document.querySelectorAll('[data-testid="admin-room"]').length === 1);
    const row = rows.filter({ hasText: 'Ops war room' });
    expect(await row.getByTestId('admin-room-members').textContent()).toBe('2');
    expect(await row.getByTestId('admin-room-online').textContent()).toBe('2');
    await row.getByTestId('admin-room-members-btn').click();
    const members = p.getByTestId('admin-member');
    await members.filter({ hasText: 'Bob' }).waitFor();
    await members.filter({ hasText: 'Alice' }).filter({ hasText: 'owner' }).waitFor();
    expect(await members.count()).toBe(2);
    await shot(p, 'admin-02-rooms');
    await p.getByTestId('admin-room-search').fill('nothing-like-this');
    await p.getByTestId('admin-no-rooms').waitFor();
    await p.getByTestId('admin-room-search').fill('');
    await rows.filter({ hasText: 'Design review' }).waitFor();
  });

  it('deletes a room after a confirmation; its members see it gone', async () => {
    const p = alice.page;
    const row = p.getByTestId('admin-room').filter({ hasText: 'Ops war room' });
    await row.getByTestId('admin-room-delete').click();
    const confirm = p.getByTestId('confirm');
    await confirm.getByText('Delete the room “Ops war room”?').waitFor();
    // Cancel first: nothing happens.
    await p.getByTestId('confirm-cancel').click();
    await confirm.waitFor({ state: 'detached' });
    expect(await row.count()).toBe(1);
    await row.getByTestId('admin-room-delete').click();
    await p.getByTestId('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    // Bob was in it: the room goes from his page.
    await bob.page.getByTestId('toast').filter({ hasText: 'Ops war room' }).waitFor();
    await bob.page.locator(`[data-testid="my-room"][data-room="${ops.id}"]`).waitFor({ state: 'detached' });
    await bob.page.locator(`[data-testid="chat"][data-room="${ops.id}"]`).waitFor({ state: 'detached' });
    expect(await bob.page.locator(`[data-testid="public-room"][data-room="${ops.id}"]`).count()).toBe(0);
    // And the server agrees.
    const r = await fetch(`${base}/api/rooms/${ops.id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(r.status).toBe(404);
    expect(await p.getByTestId('admin-room').filter({ hasText: 'Design review' }).count()).toBe(1);
  });

  it('lists who is online with their connections, and disconnects a user after a confirmation', async () => {
    const p = alice.page;
    const users = p.getByTestId('admin-user');
    const bobRow = users.filter({ hasText: 'Bob' });
    await bobRow.waitFor();
    await users.filter({ hasText: 'Alice' }).waitFor();
    expect(await bobRow.getByTestId('admin-user-connections').textContent()).toBe('1');
    await shot(p, 'admin-03-users');
    await bobRow.getByTestId('admin-user-disconnect').click();
    await p.getByTestId('confirm').getByText('Disconnect Bob?').waitFor();
    await p.getByTestId('confirm-ok').click();
    await bobRow.waitFor({ state: 'detached' });
    // Bob's page says what happened, and does not reconnect by itself.
    await bob.page.getByTestId('disconnected').getByText('An administrator disconnected you').waitFor();
    await bob.page.locator('[data-testid="conn"]:visible').filter({ hasText: 'Offline' }).waitFor();
    await shot(bob.page, 'admin-04-disconnected-user');
    // He may come back when he chooses to.
    await bob.page.getByTestId('reconnect').click();
    await connected(bob.page);
    await bob.page.getByTestId('disconnected').waitFor({ state: 'detached' });
    await p.getByTestId('admin-users-refresh').click();
    await bobRow.waitFor();
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  it('forgets the key on request', async () => {
    const p = alice.page;
    await p.getByTestId('admin-key-forget').click();
    await p.getByTestId('admin-access').waitFor();
    expect(await p.evaluate(() => Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)))).not.toContain(API_KEY);
  });

  it('lets an admin user in with their own sign-in token, no key needed', async () => {
    const dana = await newUser(browser);
    try {
      await dana.page.goto(`${base}/`);
      await dana.page.getByRole('tab', { name: 'Token' }).click();
      await dana.page.getByLabel('Access token').fill(await mintToken({ secret: SECRET, sub: 'dana', name: 'Dana', admin: true, ttlSec: 3600 }));
      await dana.page.getByRole('button', { name: 'Enter' }).click();
      await dana.page.getByTestId('me').filter({ hasText: 'Dana' }).waitFor();
      await dana.page.goto(`${base}/#/admin`);
      await dana.page.getByTestId('admin-using').filter({ hasText: 'Signed in as an admin' }).waitFor();
      await dana.page.getByTestId('admin-room').filter({ hasText: 'Design review' }).waitFor();
      await dana.page.getByTestId('admin-user').filter({ hasText: 'Dana' }).waitFor();
      expect(await dana.page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
      expect(await dana.page.getByTestId('admin-access').count()).toBe(0);
    } finally {
      await dana.context.close();
    }
  });
});

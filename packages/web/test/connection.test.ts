import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { connected, launch, message, newUser, preflight, send, signIn, type User } from './browser.js';

// The connection as the UI shows it, in Chromium against a real server that goes away: the
// countdown to the SDK's next attempt (its `retryAt`), and a room left and joined again in the
// same page showing its history (the SDK delivers it again to the new Room; the UI keeps no
// record of what it showed before).

const skip = preflight();

describe.skipIf(skip !== null)('web UI connection and rooms', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let roomId = '';

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launch();
    alice = await newUser(browser);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('counts down to the next reconnect attempt while the server is away', async () => {
    const p = alice.page;
    await p.goto(`http://127.0.0.1:${server.port}/`);
    await signIn(p, 'Alice');
    await p.getByTestId('new-room').click();
    await p.getByLabel('Room name').fill('Countdown');
    await p.getByTestId('create-submit').click();
    const link = await p.getByTestId('share-link').inputValue();
    roomId = decodeURIComponent(link.split('#/r/')[1]!);
    await p.getByTestId('open-created').click();
    await send(p, 'before the cut');
    await message(p, 'before the cut').and(p.locator('[data-state="sent"]')).waitFor();

    const { port, dataDir } = server;
    await server.close();
    const status = p.locator('[data-testid="conn"]:visible');
    // Backoff grows with each refused attempt; a wait of 2 s or more shows its seconds go down.
    const counting = status.filter({ hasText: /Reconnecting in ([2-9]|10)s/ });
    await counting.waitFor({ timeout: 30_000 });
    const n = Number(/Reconnecting in (\d+)s/.exec((await counting.textContent()) ?? '')?.[1]);
    await status.filter({ hasText: `Reconnecting in ${n - 1}s` }).waitFor();

    server = await startTestServer({ dataDir, port });
    await connected(p);
    expect(await status.textContent()).toContain('Connected');
    expect(alice.errors).toEqual([]);
  });

  it('shows the history of a room left and joined again without a reload', async () => {
    const p = alice.page;
    await p.getByTestId('leave').click();
    await p.locator(`[data-testid="my-room"][data-room="${roomId}"]`).waitFor({ state: 'detached' });
    await p.getByTestId('join-id').fill(roomId);
    await p.getByTestId('join-btn').click();
    await p.locator(`[data-testid="chat"][data-room="${roomId}"]`).waitFor();
    await message(p, 'before the cut').waitFor();
    expect(await message(p, 'before the cut').count()).toBe(1);
    expect(alice.errors).toEqual([]);
  });
});

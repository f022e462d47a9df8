import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { axeViolations, connected, launch, message, messages, newUser, preflight, send, shot, signIn, type User } from './browser.js';

// What the UI says while the connection is gone, in Chromium against a real server: the browser
// going offline shows at once, presence shown meanwhile is marked as only the last known (no
// green dots, no "Online — 2"), and it is current again right after the reconnect; a connection
// that stops answering says so. The composer holds to the limit `welcome` announces, counted as
// the server counts (UTF-16 code units), and a message the server refused as too large is put
// back to edit instead of offered for a Retry that cannot work.

const skip = preflight();
/** axe-core, loaded before the page's scripts (the page's CSP refuses an injected script). */
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const status = (p: Page) => p.locator('[data-testid="conn"]:visible').first();

async function openRoomWith(base: string, owner: User, guest: User, names: [string, string]): Promise<string> {
  await owner.page.goto(`${base}/`);
  await signIn(owner.page, names[0]);
  await owner.page.getByTestId('new-room').click();
  await owner.page.getByTestId('create-submit').click();
  const link = await owner.page.getByTestId('share-link').inputValue();
  await owner.page.getByTestId('open-created').click();
  await guest.page.goto(link);
  await signIn(guest.page, names[1]);
  await guest.page.locator('[data-testid="chat"]').waitFor();
  await owner.page.getByTestId('online-count').filter({ hasText: 'Online — 2' }).waitFor();
  return link;
}

describe.skipIf(skip !== null)('web UI: connection status and presence while disconnected', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let bob: User;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob] = await Promise.all([newUser(browser), newUser(browser)]);
    await Promise.all([alice.context, bob.context].map((c) => c.addInitScript({ path: AXE })));
    await openRoomWith(base, alice, bob, ['Alice', 'Bob']);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows Offline at once when the browser goes offline, and presence as only the last known', async () => {
    const p = alice.page;
    await alice.context.setOffline(true);
    await status(p).filter({ hasText: 'Offline' }).waitFor();
    // Nobody is shown online with a green dot while we cannot know.
    await p.getByTestId('online-count').filter({ hasText: 'Last known online — 2 (not connected)' }).waitFor();
    expect(await p.getByTestId('members').getAttribute('data-stale')).toBe('true');
    expect(await p.locator('[data-testid="chat"] .chat-head').textContent()).toContain('2 online when last connected');
    expect(await p.locator('[data-testid="chat"] .chat-head .dot:visible').count()).toBe(0);
    expect(await p.locator('.sidebar [data-testid="my-room"] .dot').count()).toBe(0);
    const dots = await p.locator('[data-testid="members"] .member .avatar').evaluateAll((els) => els.map((el) => getComputedStyle(el, '::after').display));
    expect(dots.length).toBe(2);
    expect(dots.every((d) => d === 'none')).toBe(true);
    expect(await axeViolations(p)).toEqual([]);
    await send(p, 'written offline');
    await status(p).filter({ hasText: 'Offline · 1 waiting to send' }).waitFor();
    await shot(p, 'h3-offline');

    await alice.context.setOffline(false);
    await connected(p);
    // Right after the reconnect: current again, and the queued message went out.
    await p.getByTestId('online-count').filter({ hasText: /^Online — 2$/ }).waitFor();
    await p.locator('[data-testid="chat"] .chat-head .dot').first().waitFor();
    expect(await p.getByTestId('members').getAttribute('data-stale')).toBeNull();
    await message(bob.page, 'written offline').waitFor();
    expect(alice.errors).toEqual([]);
  });

  it('marks presence stale while the server is away, and current again once it is back', async () => {
    const { port, dataDir } = server;
    await server.close();
    for (const u of [alice, bob]) {
      await status(u.page).filter({ hasText: /Reconnecting/ }).waitFor({ timeout: 30_000 });
      await u.page.getByTestId('online-count').filter({ hasText: 'Last known online — 2 (not connected)' }).waitFor();
    }
    server = await startTestServer({ dataDir, port });
    for (const u of [alice, bob]) {
      await connected(u.page);
      await u.page.getByTestId('online-count').filter({ hasText: /^Online — 2$/ }).waitFor();
      expect(u.errors).toEqual([]);
    }
  });
});

describe.skipIf(skip !== null)('web UI: a connection that goes silent', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says the connection is not answering when sends wait on a connection that went silent', async () => {
    const frank = await newUser(browser);
    let silent = false;
    // A path that stops carrying frames without closing (a stalled proxy, a dead Wi-Fi uplink):
    // the browser still says online and the socket open.
    await frank.page.routeWebSocket(/\/ws/, (ws: WebSocketRoute) => {
      const upstream = ws.connectToServer();
      ws.onMessage((m) => {
        if (!silent) upstream.send(m);
      });
      upstream.onMessage((m) => {
        if (!silent) ws.send(m);
      });
    });
    await frank.page.goto(`http://127.0.0.1:${server.port}/`);
    await signIn(frank.page, 'Frank');
    await frank.page.getByTestId('new-room').click();
    await frank.page.getByTestId('create-submit').click();
    await frank.page.getByTestId('open-created').click();
    silent = true;
    await send(frank.page, 'into the void');
    // Sooner than the SDK's heartbeat gives up on the connection (two 25 s intervals).
    await status(frank.page).filter({ hasText: 'Not answering… · 1 waiting to send' }).waitFor({ timeout: 20_000 });
    expect(await status(frank.page).getAttribute('data-shown')).toBe('stalled');
    expect(frank.errors).toEqual([]);
    await frank.context.close();
  });
});

describe.skipIf(skip !== null)('web UI: the composer and the server’s text limit', () => {
  let server: TestServer;
  let browser: Browser;
  let gina: User;
  let hal: User;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [gina, hal] = await Promise.all([newUser(browser), newUser(browser)]);
    await Promise.all([gina.context, hal.context].map((c) => c.addInitScript({ path: AXE })));
    await openRoomWith(base, gina, hal, ['Gina', 'Hal']);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('counts toward the announced 4000 as the server counts, and refuses to send over it without clearing the text', async () => {
    const p = gina.page;
    const box = p.getByTestId('composer');
    await box.fill('a'.repeat(3000));
    expect(await p.getByTestId('composer-count').count()).toBe(0);
    await box.fill('a'.repeat(3600));
    await p.getByTestId('composer-count').filter({ hasText: '400 left' }).waitFor();
    // An emoji is two UTF-16 code units, as the server counts: 3999 + 2 is one over.
    const over = `${'a'.repeat(3999)}😀`;
    await box.fill(over);
    await p.getByTestId('composer-count').filter({ hasText: '1 over the limit of 4000' }).waitFor();
    expect(await p.getByTestId('send').isDisabled()).toBe(true);
    const before = await messages(p).count();
    await box.press('Enter');
    await p.getByTestId('composer-too-long').waitFor();
    expect(await box.inputValue()).toBe(over);
    expect(await messages(p).count()).toBe(before);
    await shot(p, 'h3-composer-over');
    expect(await axeViolations(p)).toEqual([]);
    // One character less and it goes.
    await box.fill('a'.repeat(4000));
    await box.press('Enter');
    await messages(hal.page).filter({ hasText: 'a'.repeat(50) }).first().waitFor();
    expect(await box.inputValue()).toBe('');
    expect(gina.errors).toEqual([]);
  });

  it('offers Edit and Discard, never Retry, for a message the server refused as too large', async () => {
    const p = gina.page;
    const { port, dataDir } = server;
    await server.close();
    await status(p).filter({ hasText: /Reconnecting/ }).waitFor({ timeout: 30_000 });
    const text = 'thirty characters of text, ok!';
    expect(text.length).toBe(30);
    await send(p, text);
    await status(p).filter({ hasText: '1 waiting to send' }).waitFor();
    // The server comes back with a smaller limit: the queued message is refused (too_large).
    server = await startTestServer({ dataDir, port, maxText: 20 });
    await connected(p);
    const failed = messages(p).and(p.locator('[data-state="failed"]'));
    await failed.waitFor();
    expect(await failed.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await failed.getByRole('button', { name: 'Discard' }).count()).toBe(1);
    await shot(p, 'h3-failed-too-large');
    await failed.getByRole('button', { name: 'Edit' }).click();
    await failed.waitFor({ state: 'detached' });
    // The text is back in the composer, held to the new limit.
    expect(await p.getByTestId('composer').inputValue()).toBe(text);
    await p.getByTestId('composer-count').filter({ hasText: '10 over the limit of 20' }).waitFor();
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('composer-input');
    expect(gina.errors).toEqual([]);
  });
});

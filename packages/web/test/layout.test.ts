import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { smallTargets } from './screens.js';
import { connected, createRoom, launch, message, messages, newUser, preflight, send, signIn, WAIT, type User } from './browser.js';

// Times on every message, the phone layout (sharing a room's link, 44 px touch targets), the
// skip link and headings, in Chromium against a real server.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

const PHONE = { width: 390, height: 844 };

/** A phone: touch screen, coarse pointer, 390 px wide. `share` stubs navigator.share, else it is absent. */
async function phone(browser: Browser, share: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true, locale: 'en-US', deviceScaleFactor: 1 });
  context.setDefaultTimeout(WAIT);
  await context.addInitScript((stub: boolean) => {
    const nav = navigator as Navigator & { shared?: unknown[] };
    if (stub) {
      nav.shared = [];
      Object.defineProperty(Navigator.prototype, 'share', { configurable: true, value: async (data: unknown) => void nav.shared!.push(data) });
    } else {
      Object.defineProperty(Navigator.prototype, 'share', { configurable: true, value: undefined });
    }
  }, share);
  return { context, page: await context.newPage() };
}

/** Signs in on a phone at a room's link: the chat shows (the sidebar, with the name, does not). */
async function phoneSignIn(page: Page, name: string): Promise<void> {
  await page.getByLabel('Nickname').fill(name);
  await page.getByRole('button', { name: 'Enter' }).click();
  await page.getByTestId('chat').waitFor();
  await connected(page);
}

describe.skipIf(skip !== null)('times, the phone layout, skip link and headings in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let alice: User;
  let bob: User;
  let link = '';
  let roomId = '';

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob] = await Promise.all([newUser(browser), newUser(browser)]);
    await alice.page.goto(`${base}/`);
    await signIn(alice.page, 'Alice');
    ({ link, id: roomId } = await createRoom(alice.page, 'Layout'));
    await bob.page.goto(link);
    await signIn(bob.page, 'Bob');
    for (const text of ['one', 'two', 'three']) await send(alice.page, text);
    await message(bob.page, 'three').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('gives every message its time: the full date for everyone, grouped ones on hover, focus or tap', async () => {
    const opacity = (p: Page, text: string) => message(p, text).locator('.side-time').evaluate((el) => getComputedStyle(el).opacity);
    for (const p of [alice.page, bob.page]) {
      // Each of the three has a <time> with the full date as its title and for screen readers.
      const times = await messages(p).evaluateAll((els) =>
        els.map((m) => {
          const t = m.querySelector('time[datetime]');
          return { datetime: t?.getAttribute('datetime') ?? '', title: t?.getAttribute('title') ?? '', spoken: t?.querySelector('.sr-only')?.textContent ?? '' };
        }),
      );
      expect(times).toHaveLength(3);
      for (const t of times) {
        expect(Number.isNaN(Date.parse(t.datetime))).toBe(false);
        expect(t.title).toMatch(/^\w+day, \w+ \d+, \d{4} at \d+:\d\d\s[AP]M$/);
        expect(t.spoken).toBe(t.title);
      }
      // Grouped: "two" shows no time until hovered.
      await p.mouse.move(0, 0);
      await p.waitForFunction(() => getComputedStyle(document.querySelectorAll('[data-testid="chat"] [data-testid="message"]')[1]!.querySelector('.side-time')!).opacity === '0');
      await message(p, 'two').locator('.bubble').hover();
      await expect.poll(() => opacity(p, 'two')).toBe('1');
    }
    // Keyboard: focus inside "three" (its actions button) shows it too.
    await bob.page.mouse.move(0, 0);
    await message(bob.page, 'three').getByTestId('more-btn').focus();
    await expect.poll(() => opacity(bob.page, 'three')).toBe('1');

    // Touch: a tap selects the message and shows its time; another tap hides it.
    const { context, page } = await phone(browser, false);
    try {
      await page.goto(link);
      await phoneSignIn(page, 'Carol');
      await message(page, 'three').waitFor();
      expect(await opacity(page, 'two')).toBe('0');
      await message(page, 'two').locator('.bubble').tap();
      await message(page, 'two').and(page.locator('[data-selected="true"]')).waitFor();
      await expect.poll(() => opacity(page, 'two')).toBe('1');
      await message(page, 'two').locator('.bubble').tap();
      await message(page, 'two').and(page.locator('[data-selected="true"]')).waitFor({ state: 'detached' });
    } finally {
      await context.close();
    }
  });

  it('on a 390 px phone, shares the room link (or copies it) and keeps every touch target at least 44×44', async () => {
    const sharing = await phone(browser, true);
    const copying = await phone(browser, false);
    try {
      for (const [u, name] of [[sharing, 'Dana'], [copying, 'Erin']] as const) {
        await u.page.goto(link);
        await phoneSignIn(u.page, name);
        await u.page.locator(`[data-testid="chat"][data-room="${roomId}"]`).waitFor();
      }
      // A system share sheet where there is one.
      const share = sharing.page.getByTestId('copy-room-link');
      expect(await share.getAttribute('aria-label')).toBe('Share link');
      await share.tap();
      await sharing.page.waitForFunction(() => ((navigator as Navigator & { shared?: unknown[] }).shared ?? []).length === 1);
      expect(await sharing.page.evaluate(() => (navigator as Navigator & { shared?: unknown[] }).shared)).toEqual([{ title: 'Layout', url: link }]);
      // Else the clipboard.
      await copying.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      const copy = copying.page.getByTestId('copy-room-link');
      expect(await copy.getAttribute('aria-label')).toBe('Copy link');
      await copy.tap();
      await copying.page.getByTestId('toast').filter({ hasText: 'Copied!' }).waitFor();
      expect(await copying.page.evaluate(() => navigator.clipboard.readText())).toBe(link);

      // Touch targets, screen by screen.
      const p = copying.page;
      const found: Record<string, string[]> = {};
      found.chat = await smallTargets(p);
      await message(p, 'three').getByTestId('more-btn').tap();
      await p.getByTestId('msg-menu').waitFor();
      found.menu = await smallTargets(p);
      await p.keyboard.press('Escape');
      await p.getByTestId('msg-menu').waitFor({ state: 'detached' });
      await p.locator('.members-toggle').tap();
      await p.getByTestId('members').waitFor();
      found.members = await smallTargets(p);
      await p.goto(`${base}/#/`);
      await p.getByText('My rooms').waitFor();
      found.rooms = await smallTargets(p);
      await p.getByTestId('new-room').tap();
      await p.getByLabel('Room name').waitFor();
      found.create = await smallTargets(p);
      expect(found).toEqual({ chat: [], menu: [], members: [], rooms: [], create: [] });
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    } finally {
      await sharing.context.close();
      await copying.context.close();
    }
  });

  it('starts every screen with a skip link and gives it one h1', async () => {
    const h1s = (p: Page) => p.locator('h1').allTextContents();
    const firstTab = async (p: Page) => {
      // Tab from the very start of the document: a focusable mark before everything else.
      await p.evaluate(() => {
        const mark = document.createElement('span');
        mark.tabIndex = -1;
        mark.id = 'start-mark';
        document.body.prepend(mark);
        mark.focus();
      });
      await p.keyboard.press('Tab');
      await p.evaluate(() => document.getElementById('start-mark')?.remove());
      return p.evaluate(() => ({ testid: document.activeElement?.getAttribute('data-testid'), text: document.activeElement?.textContent }));
    };
    const fresh = await newUser(browser);
    try {
      const p = fresh.page;
      await p.goto(`${base}/`);
      await p.getByTestId('login').waitFor();
      expect(await h1s(p)).toEqual(['Join the conversation']);
      await signIn(p, 'Frank');
      // The empty app: a visually hidden h1; the skip link leads to the main area.
      await p.getByText('Pick a room on the left').waitFor();
      expect(await h1s(p)).toEqual(['roomcast: your rooms']);
      expect(await firstTab(p)).toEqual({ testid: 'skip-link', text: 'Skip to main content' });
      await p.keyboard.press('Enter');
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('main');
      // A room: its title is the h1, and the skip link leads to the messages.
      await p.goto(link);
      await connected(p);
      await message(p, 'three').waitFor();
      expect(await h1s(p)).toEqual(['Layout']);
      expect(await firstTab(p)).toEqual({ testid: 'skip-link', text: 'Skip to messages' });
      await p.keyboard.press('Enter');
      expect(await p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('messages');
      // The admin page (open to whoever runs the server, on localhost).
      await p.goto(`${base}/#/admin`);
      await p.getByTestId('admin').waitFor();
      expect(await h1s(p)).toHaveLength(1);
      expect(fresh.errors).toEqual([]);
    } finally {
      await fresh.context.close();
    }
  });
});

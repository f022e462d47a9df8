import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { launch, newUser, preflight, shot, signIn, type User } from './browser.js';

// The members panel lists the online members, then the offline ones (greyed, "offline" for
// screen readers); no green dot beside a count of 0 online.

const skip = preflight();

describe.skipIf(skip !== null)('members in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    alice = await newUser(browser);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists offline members after the online ones', async () => {
    const p = alice.page;
    await p.goto(`${base}/`);
    await signIn(p, 'Alice');
    await p.getByTestId('new-room').click();
    await p.getByLabel('Room name').fill('Team');
    await p.getByTestId('create-submit').click();
    const link = await p.getByTestId('share-link').inputValue();
    await p.getByTestId('open-created').click();

    const bob = await newUser(browser);
    await bob.page.goto(link);
    await signIn(bob.page, 'Bob');
    await p.getByTestId('member').filter({ hasText: 'Bob' }).waitFor();
    expect(await p.getByTestId('member-offline').count()).toBe(0);
    // Bob closes his browser: he is still a member, now offline.
    await bob.context.close();
    const offline = p.getByTestId('member-offline').filter({ hasText: 'Bob' });
    await offline.waitFor();
    await p.getByTestId('online-count').filter({ hasText: 'Online — 1' }).waitFor();
    expect(await p.getByTestId('offline-count').textContent()).toBe('Offline — 1');
    expect(await p.getByTestId('member').filter({ hasText: 'Bob' }).count()).toBe(0);
    // Screen readers hear that he is offline (the button's text, some of it visually hidden).
    expect(await offline.locator('.sr-only').filter({ hasText: /^offline$/ }).count()).toBe(1);
    expect(await p.getByRole('button', { name: /Bob.*offline/ }).count()).toBe(1);
    // After the online ones, and greyed.
    const order = await p.getByTestId('members').evaluate((el) => [...el.querySelectorAll('[data-testid="member"], [data-testid="member-offline"]')].map((b) => b.textContent?.trim() ?? ''));
    expect(order[0]).toContain('Alice');
    expect(order[order.length - 1]).toContain('Bob');
    const dot = await offline.locator('.avatar').evaluate((el) => getComputedStyle(el, '::after').display);
    expect(dot).toBe('none');
    await shot(p, 'members-01-offline');
    // A reload lists him too (from the `members` list, not from presence seen meanwhile).
    await p.reload();
    await p.getByTestId('member-offline').filter({ hasText: 'Bob' }).waitFor();

    // Someone who leaves the room is not a member any more: not listed as offline either.
    const dave = await newUser(browser);
    try {
      await dave.page.goto(link);
      await signIn(dave.page, 'Dave');
      await p.getByTestId('member').filter({ hasText: 'Dave' }).waitFor();
      await dave.page.getByTestId('leave').click();
      await p.getByTestId('member').filter({ hasText: 'Dave' }).waitFor({ state: 'detached' });
      await p.waitForFunction(() => document.querySelector('[data-testid="offline-count"]')?.textContent === 'Offline — 1');
      expect(await p.getByTestId('member-offline').filter({ hasText: 'Dave' }).count()).toBe(0);
      await p.getByTestId('member-offline').filter({ hasText: 'Bob' }).waitFor();
    } finally {
      await dave.context.close();
    }
  });

  it('shows no green dot beside 0 online', async () => {
    // Carol makes a public room and goes: it is listed with nobody online.
    const carol = await newUser(browser);
    await carol.page.goto(`${base}/`);
    await signIn(carol.page, 'Carol');
    await carol.page.getByTestId('new-room').click();
    await carol.page.getByLabel('Room name').fill('Quiet corner');
    await carol.page.getByTestId('create-submit').click();
    await carol.page.getByTestId('open-created').click();
    await carol.page.getByTestId('chat').waitFor();
    await carol.context.close();

    const p = alice.page;
    await p.goto(`${base}/#/`);
    await p.reload();
    const quiet = p.getByTestId('public-room').filter({ hasText: 'Quiet corner' });
    await quiet.waitFor();
    await quiet.locator('.count').filter({ hasText: /^0$/ }).waitFor();
    expect(await quiet.locator('.dot').count()).toBe(0);
    // A room with someone online keeps its dot.
    const team = p.getByTestId('my-room').filter({ hasText: 'Team' });
    expect(await team.locator('.dot').count()).toBe(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { launch, message, messages, newUser, preflight, send, shot, signIn, type User } from './browser.js';

// Read receipts, @-mentions and search, in Chromium against a real server, with three users:
// Alice (who writes), Bob, and 小明 (a Chinese name, in an English UI here). The tests run in
// order and share the users.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

describe.skipIf(skip !== null)('receipts, mentions and search in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let bob: User;
  let ming: User;
  let base: string;
  let link = '';
  let roomId = '';
  const API_KEY = 'test-api-key-for-mentions-and-search';

  beforeAll(async () => {
    // No HTTP rate limit: the test posts hundreds of messages through the API at once.
    server = await startTestServer({ apiKey: API_KEY, httpRate: 0 });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob, ming] = await Promise.all([newUser(browser), newUser(browser), newUser(browser)]);
    await alice.page.goto(`${base}/`);
    await signIn(alice.page, 'Alice');
    await alice.page.getByTestId('new-room').click();
    await alice.page.getByLabel('Room name').fill('Launch');
    await alice.page.getByTestId('create-submit').click();
    link = await alice.page.getByTestId('share-link').inputValue();
    roomId = decodeURIComponent(link.split('#/r/')[1]!);
    await alice.page.getByTestId('open-created').click();
    for (const [u, name] of [[bob, 'Bob'], [ming, '小明']] as const) {
      await u.page.goto(link);
      await signIn(u.page, name);
      await alice.page.getByTestId('member').filter({ hasText: name }).waitFor();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows "Seen by" under my last message as members read it', async () => {
    const seen = alice.page.getByTestId('seen');
    // 小明 is looking at the room list: only Bob, who has the room open, reads the message.
    await ming.page.goto(`${base}/#/`);
    await ming.page.getByText('My rooms').waitFor();
    await send(alice.page, 'The launch checklist is ready');
    await message(bob.page, 'The launch checklist is ready').waitFor();
    const under = message(alice.page, 'The launch checklist is ready').getByTestId('seen');
    await under.filter({ hasText: /^Seen by Bob$/ }).waitFor();
    // 小明 opens the room: read, and the receipt reaches Alice.
    await ming.page.locator(`[data-testid="my-room"][data-room="${roomId}"]`).click();
    await message(ming.page, 'The launch checklist is ready').waitFor();
    await under.filter({ hasText: /^Seen by Bob, 小明$/ }).waitFor();
    // Only under the last of my messages.
    await send(alice.page, 'Please tick what you own');
    await message(alice.page, 'Please tick what you own').getByTestId('seen').filter({ hasText: /^Seen by Bob, 小明$/ }).waitFor();
    expect(await seen.count()).toBe(1);
    // A reload keeps it: the cursors come from the member list.
    await alice.page.reload();
    await message(alice.page, 'Please tick what you own').getByTestId('seen').filter({ hasText: /^Seen by Bob, 小明$/ }).waitFor();
    await shot(alice.page, 'features-10-seen-by');
  });

  it('shows "Read" in a direct conversation once the other reads it', async () => {
    await alice.page.getByTestId('member').filter({ hasText: 'Bob' }).click();
    await alice.page.getByTestId('room-title').filter({ hasText: 'Bob' }).waitFor();
    await send(alice.page, 'Just between us: ready?');
    const mine = message(alice.page, 'Just between us: ready?');
    await mine.and(alice.page.locator('[data-state="sent"]')).waitFor();
    expect(await mine.getByTestId('seen').count()).toBe(0);
    await bob.page.goto(`${base}/#/`);
    const dm = bob.page.getByTestId('dm-room').filter({ hasText: 'Alice' });
    await dm.locator('[data-testid="unread"]').waitFor();
    await dm.click();
    await message(bob.page, 'Just between us: ready?').waitFor();
    await mine.getByTestId('seen').filter({ hasText: /^Read$/ }).waitFor();
    await shot(alice.page, 'features-11-dm-read');
  });

  it('autocompletes @-mentions from the members, sends them, and highlights and badges them', async () => {
    await alice.page.goto(link);
    await bob.page.goto(link);
    await ming.page.goto(`${base}/#/`);
    await ming.page.getByText('My rooms').waitFor();
    const box = bob.page.getByTestId('composer');
    await message(bob.page, 'Please tick what you own').waitFor();
    await box.click();
    await box.pressSequentially('@');
    const options = bob.page.getByTestId('mention-option');
    await options.first().waitFor();
    expect(await options.locator('span:not(.avatar)').allTextContents()).toEqual(['Alice', '小明']);
    // ↓ moves to 小明, ↑ back to Alice, Tab picks her.
    await box.press('ArrowDown');
    await options.filter({ hasText: '小明' }).and(bob.page.locator('[aria-selected="true"]')).waitFor();
    await box.press('ArrowUp');
    await options.filter({ hasText: 'Alice' }).and(bob.page.locator('[aria-selected="true"]')).waitFor();
    await box.press('Tab');
    await bob.page.getByTestId('mention-list').waitFor({ state: 'detached' });
    expect(await box.inputValue()).toBe('@Alice ');
    // A query narrows the list; Enter picks (and does not send).
    await box.pressSequentially('and @小');
    await shot(bob.page, 'features-12-mention-autocomplete');
    expect(await options.count()).toBe(1);
    await box.press('Enter');
    expect(await box.inputValue()).toBe('@Alice and @小明 ');
    await box.pressSequentially('please review');
    await box.press('Enter');
    const text = '@Alice and @小明 please review';
    await message(bob.page, text).and(bob.page.locator('[data-state="sent"]')).waitFor();

    // 小明, on the room list: a mention badge beside the unread count.
    const item = ming.page.locator(`[data-testid="my-room"][data-room="${roomId}"]`);
    await item.getByTestId('mention-badge').filter({ hasText: '@1' }).waitFor();
    await item.getByTestId('unread').waitFor();
    await shot(ming.page, 'features-13-mention-badge');
    await item.click();
    const onMing = message(ming.page, text);
    await onMing.and(ming.page.locator('[data-mention="true"]')).waitFor();
    expect(await onMing.locator('mark.mention-tag.me').textContent()).toBe('@小明');
    expect(await onMing.locator('mark.mention-tag:not(.me)').textContent()).toBe('@Alice');
    await item.getByTestId('mention-badge').waitFor({ state: 'detached' });
    // Alice is mentioned too (she had the room open: no badge, but highlighted).
    const onAlice = message(alice.page, text);
    await onAlice.and(alice.page.locator('[data-mention="true"]')).waitFor();
    expect(await onAlice.locator('mark.mention-tag.me').textContent()).toBe('@Alice');
    // Bob's own message is not "mentioning him".
    expect(await message(bob.page, text).getAttribute('data-mention')).toBeNull();
    await shot(ming.page, 'features-14-mention-highlight');
  });

  it('searches my rooms and opens the timeline around a hit, far back in history', async () => {
    // 500 messages after the checklist one: far beyond what a join loads, and too far back to
    // load page by page.
    for (let i = 1; i <= 500; i++) {
      const r = await fetch(`${base}/api/rooms/${roomId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `status update #${i}`, from: { id: 'bot', name: 'Bot' } }),
      });
      expect(r.status).toBe(201);
    }
    // A fresh page: Bob's timeline is what the join loads, the newest 50.
    const p = bob.page;
    await p.goto(`${base}/#/`);
    await p.reload();
    await p.getByText('My rooms').waitFor();
    await p.getByTestId('search').fill('checklist');
    const hit = p.getByTestId('search-hit').filter({ hasText: 'The launch checklist is ready' });
    await hit.filter({ hasText: 'Launch' }).waitFor();
    expect(await hit.locator('mark').textContent()).toBe('checklist');
    await shot(p, 'features-15-search-results');
    await hit.click();
    await p.locator(`[data-testid="chat"][data-room="${roomId}"]`).waitFor();
    const target = message(p, 'The launch checklist is ready');
    await target.and(p.locator('[data-highlight="true"]')).waitFor();
    // A window around it: its neighbours, not the newest messages.
    await message(p, 'Please tick what you own').waitFor();
    expect(await message(p, 'status update #500').count()).toBe(0);
    expect(await messages(p).count()).toBeLessThan(100);
    await shot(p, 'features-16-search-hit-in-context');
    // Scrolling down loads the next messages.
    const before = await messages(p).count();
    await p.getByTestId('messages').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await p.waitForFunction((n) => document.querySelectorAll('[data-testid="chat"] [data-testid="message"]').length > n, before);
    // "Jump to latest" goes back to the live end, and new messages show there again.
    await p.getByTestId('jump-latest').click();
    await message(p, 'status update #500').waitFor();
    await send(alice.page, 'Back to the present');
    await message(p, 'Back to the present').waitFor();
    const seqs = await messages(p).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))).filter((n) => n > 0));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('finds Chinese text by a two-character query, and says when nothing matches', async () => {
    await ming.page.goto(link);
    await send(ming.page, '大家你好啊，发布会见');
    await message(alice.page, '大家你好啊，发布会见').waitFor();
    const p = alice.page;
    await p.getByTestId('search').fill('你好');
    const hit = p.getByTestId('search-hit').filter({ hasText: '大家你好啊' });
    await hit.filter({ hasText: '小明' }).waitFor();
    await hit.click();
    await message(p, '大家你好啊，发布会见').and(p.locator('[data-highlight="true"]')).waitFor();
    await p.getByTestId('search').fill('no such words anywhere');
    await p.getByTestId('search-none').filter({ hasText: 'No messages found.' }).waitFor();
    await p.getByTestId('search-clear').click();
    await p.getByTestId('my-room').first().waitFor();
    for (const u of [alice, bob, ming]) expect(u.errors).toEqual([]);
  });
});

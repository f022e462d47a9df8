import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { createRoom, launch, message, messages, newUser, preflight, send, shot, signIn, WAIT, type User } from './browser.js';

// What one can do with a message, in Chromium against a real server, two users side by side:
// reply (the quote jumps to the original, loading it from history when it is not shown), react,
// edit, unsend, copy; from the "…" menu, by keyboard alone, and by a long press on a touch screen.
// The tests run in order and share the users.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

/** Opens a message's "…" menu and returns it. */
async function menuOf(msg: Locator): Promise<Locator> {
  await msg.hover();
  await msg.getByTestId('more-btn').click();
  const menu = msg.getByTestId('msg-menu');
  await menu.waitFor();
  return menu;
}

function reaction(msg: Locator, emoji: string): Locator {
  return msg.locator(`[data-testid="reaction"][data-emoji="${emoji}"]`);
}

describe.skipIf(skip !== null)('message actions in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let bob: User;
  let base: string;
  let link = '';
  let roomId = '';
  const API_KEY = 'test-api-key-for-the-message-actions';

  beforeAll(async () => {
    // No HTTP rate limit: the test posts hundreds of messages through the API at once.
    server = await startTestServer({ apiKey: API_KEY, httpRate: 0 });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob] = await Promise.all([newUser(browser), newUser(browser)]);
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await alice.page.goto(`${base}/`);
    await signIn(alice.page, 'Alice');
    ({ link, id: roomId } = await createRoom(alice.page, 'Launch'));
    await bob.page.goto(link);
    await signIn(bob.page, 'Bob');
    await alice.page.getByTestId('member').filter({ hasText: 'Bob' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('replies with a quote above the composer, cancels, and sends a reply that shows it', async () => {
    await send(alice.page, 'Who reviews the launch plan?');
    const original = message(bob.page, 'Who reviews the launch plan?');
    await original.waitFor();
    // The quick reply button (shown on hover) puts the quote above the composer; × cancels it.
    await original.hover();
    await original.getByTestId('reply-btn').click();
    const bar = bob.page.getByTestId('intent');
    await bar.filter({ hasText: 'Replying to Alice' }).filter({ hasText: 'Who reviews the launch plan?' }).waitFor();
    await bob.page.locator('[data-testid="composer"]:focus').waitFor();
    await bob.page.getByTestId('intent-cancel').click();
    await bar.waitFor({ state: 'detached' });
    // From the "…" menu this time, then sent.
    await (await menuOf(original)).getByTestId('action-reply').click();
    await bar.waitFor();
    await send(bob.page, 'I will, this afternoon');
    await bar.waitFor({ state: 'detached' });
    for (const p of [alice.page, bob.page]) {
      const reply = message(p, 'I will, this afternoon');
      const quote = reply.getByTestId('quote');
      await quote.filter({ hasText: 'Alice' }).filter({ hasText: 'Who reviews the launch plan?' }).waitFor();
      expect(await quote.getAttribute('data-target')).toBe(await message(p, 'Who reviews the launch plan?').getAttribute('data-seq'));
    }
    await shot(bob.page, 'features-01-reply');
  });

  it('jumps from a quote to the original, loading older history when it is not shown', async () => {
    // Clicking the quote outlines the original in view.
    await message(alice.page, 'I will, this afternoon').getByTestId('quote').click();
    await message(alice.page, 'Who reviews the launch plan?').and(alice.page.locator('[data-highlight="true"]')).waitFor();

    // 80 messages later, a reply to the first one; a newcomer's timeline starts well after it.
    for (let i = 1; i <= 80; i++) {
      const r = await fetch(`${base}/api/rooms/${roomId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `filler #${i}`, from: { id: 'bot', name: 'Bot' } }),
      });
      expect(r.status).toBe(201);
    }
    await message(alice.page, 'filler #80').waitFor();
    const carol = await newUser(browser);
    try {
      await carol.page.goto(link);
      await signIn(carol.page, 'Carol');
      await message(carol.page, 'filler #80').waitFor();
      expect(await message(carol.page, 'I will, this afternoon').count()).toBe(0);
      // Alice answers Bob's reply, far up; Carol follows the quote to it.
      await (await menuOf(message(alice.page, 'I will, this afternoon'))).getByTestId('action-reply').click();
      await send(alice.page, 'Great, thanks Bob');
      const quote = message(carol.page, 'Great, thanks Bob').getByTestId('quote');
      await quote.filter({ hasText: 'I will, this afternoon' }).click();
      const target = message(carol.page, 'I will, this afternoon');
      await target.and(carol.page.locator('[data-highlight="true"]')).waitFor();
      // In view, inside the list.
      const box = (await target.boundingBox())!;
      const list = (await carol.page.getByTestId('messages').boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(list.y - 1);
      expect(box.y + box.height).toBeLessThanOrEqual(list.y + list.height + 1);
      // Loaded page by page: every message from there to the newest is shown, once.
      const seqs = await messages(carol.page).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))).filter((n) => n > 0));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      await shot(carol.page, 'features-02-jump-to-quoted');
      expect(carol.errors).toEqual([]);
    } finally {
      await carol.context.close();
    }
  });

  it('reacts from the menu; counts show on both sides, mine highlighted, a click toggles', async () => {
    await send(alice.page, 'Ship it on Friday?');
    const onBob = message(bob.page, 'Ship it on Friday?');
    await onBob.waitFor();
    await (await menuOf(onBob)).locator('[data-testid="react-option"][data-emoji="👍"]').click();
    await reaction(onBob, '👍').and(bob.page.locator('[data-me="true"]')).filter({ hasText: '1' }).waitFor();
    const onAlice = message(alice.page, 'Ship it on Friday?');
    await reaction(onAlice, '👍').and(alice.page.locator('[data-me="false"]')).filter({ hasText: '1' }).waitFor();
    // Alice joins in by clicking the reaction: 2 on both sides, pressed for her.
    await reaction(onAlice, '👍').click();
    await reaction(onAlice, '👍').and(alice.page.locator('[aria-pressed="true"]')).filter({ hasText: '2' }).waitFor();
    await reaction(onBob, '👍').filter({ hasText: '2' }).waitFor();
    // A second emoji, and Bob takes his 👍 back.
    await (await menuOf(onAlice)).locator('[data-testid="react-option"][data-emoji="🎉"]').click();
    await reaction(onBob, '🎉').filter({ hasText: '1' }).waitFor();
    await reaction(onBob, '👍').click();
    await reaction(onAlice, '👍').and(alice.page.locator('[data-me="true"]')).filter({ hasText: '1' }).waitFor();
    await reaction(onBob, '👍').and(bob.page.locator('[data-me="false"]')).filter({ hasText: '1' }).waitFor();
    expect(await onBob.getByTestId('reaction').evaluateAll((els) => els.map((e) => e.textContent?.trim()))).toEqual(['👍1', '🎉1']);
    await shot(alice.page, 'features-03-reactions');
  });

  it('edits my message in the composer: Esc cancels, saved text shows "(edited)" everywhere', async () => {
    const box = alice.page.getByTestId('composer');
    await send(alice.page, 'Deploy at 5pm');
    await message(bob.page, 'Deploy at 5pm').waitFor();
    await box.fill('half-written draft');
    const mine = message(alice.page, 'Deploy at 5pm');
    await (await menuOf(mine)).getByTestId('action-edit').click();
    await alice.page.getByTestId('intent').and(alice.page.locator('[data-kind="edit"]')).waitFor();
    expect(await box.inputValue()).toBe('Deploy at 5pm');
    // Esc gives the draft back, unchanged message.
    await box.press('Escape');
    await alice.page.getByTestId('intent').waitFor({ state: 'detached' });
    expect(await box.inputValue()).toBe('half-written draft');
    // ↑ in an empty box edits my last message.
    await box.fill('');
    await box.press('ArrowUp');
    await alice.page.getByTestId('intent').and(alice.page.locator('[data-kind="edit"]')).waitFor();
    expect(await box.inputValue()).toBe('Deploy at 5pm');
    await box.fill('Deploy at 6pm');
    await box.press('Enter');
    for (const p of [alice.page, bob.page]) {
      const m = message(p, 'Deploy at 6pm');
      await m.getByTestId('edited').filter({ hasText: '(edited)' }).waitFor();
      expect(await message(p, 'Deploy at 5pm').count()).toBe(0);
    }
    // Someone else's message has no Edit.
    const menu = await menuOf(message(bob.page, 'Deploy at 6pm'));
    expect(await menu.getByTestId('action-edit').count()).toBe(0);
    expect(await menu.getByTestId('action-unsend').count()).toBe(0);
    await bob.page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
  });

  it('unsends after a confirmation: "You unsent a message" / "Bob unsent a message"', async () => {
    await send(bob.page, 'oops, wrong room');
    const onBob = message(bob.page, 'oops, wrong room');
    await message(alice.page, 'oops, wrong room').waitFor();
    const seq = await onBob.getAttribute('data-seq');
    // Cancel first: nothing happens.
    await (await menuOf(onBob)).getByTestId('action-unsend').click();
    const dialog = bob.page.getByTestId('confirm');
    await dialog.filter({ hasText: 'Unsend this message?' }).waitFor();
    await bob.page.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    await onBob.waitFor();
    await (await menuOf(onBob)).getByTestId('action-unsend').click();
    await shot(bob.page, 'features-04-unsend-confirm');
    await bob.page.getByTestId('confirm-ok').click();
    const gone = (p: Page) => p.locator(`[data-testid="message"][data-seq="${seq}"] [data-testid="unsent"]`);
    await gone(bob.page).filter({ hasText: 'You unsent a message' }).waitFor();
    await gone(alice.page).filter({ hasText: 'Bob unsent a message' }).waitFor();
    expect(await message(alice.page, 'oops, wrong room').count()).toBe(0);
    // The tombstone has no actions left.
    expect(await alice.page.locator(`[data-testid="message"][data-seq="${seq}"] [data-testid="more-btn"]`).count()).toBe(0);
  });

  it('copies a message to the clipboard', async () => {
    const m = message(alice.page, 'Deploy at 6pm');
    await (await menuOf(m)).getByTestId('action-copy').click();
    await alice.page.getByTestId('toast').filter({ hasText: 'Copied to the clipboard' }).waitFor();
    expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toBe('Deploy at 6pm');
  });

  it('works from the keyboard alone: "…", arrow keys, Enter, Esc', async () => {
    const p = bob.page;
    const m = message(p, 'Ship it on Friday?');
    const more = m.getByTestId('more-btn');
    await more.focus();
    await p.keyboard.press('Enter');
    const menu = m.getByTestId('msg-menu');
    await menu.waitFor();
    const focused = () => p.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.emoji ?? (document.activeElement as HTMLElement | null)?.dataset.testid);
    expect(await focused()).toBe('👍');
    // Not mine: after the emoji, only Reply and Copy.
    await p.keyboard.press('End');
    expect(await focused()).toBe('action-copy');
    await p.keyboard.press('ArrowUp');
    expect(await focused()).toBe('action-reply');
    await p.keyboard.press('Home');
    expect(await focused()).toBe('👍');
    await p.keyboard.press('ArrowUp');
    expect(await focused()).toBe('action-copy');
    await p.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await focused()).toBe('more-btn');
    // Open again and reply by keyboard: six steps past the emoji to "Reply".
    await p.keyboard.press('Enter');
    await menu.waitFor();
    for (let i = 0; i < 6; i++) await p.keyboard.press('ArrowDown');
    expect(await focused()).toBe('action-reply');
    await p.keyboard.press('Enter');
    await p.getByTestId('intent').filter({ hasText: 'Ship it on Friday?' }).waitFor();
    expect(await focused()).toBe('composer');
    await p.keyboard.press('Escape');
    await p.getByTestId('intent').waitFor({ state: 'detached' });
  });

  it('opens the actions with a long press on a touch screen', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, locale: 'zh-CN' });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    try {
      await page.goto(link);
      await page.getByLabel('昵称').fill('小明');
      await page.getByRole('button', { name: '进入' }).click();
      const m = message(page, 'Ship it on Friday?');
      await m.waitFor();
      await m.scrollIntoViewIfNeeded();
      const box = (await m.locator('.bubble').boundingBox())!;
      const cdp = await context.newCDPSession(page);
      const at = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + box.height / 2) };
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at] });
      // Held down: the menu opens by itself (in Chinese here).
      const menu = m.getByTestId('msg-menu');
      await menu.filter({ hasText: '回复' }).waitFor();
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      // On the screen, not past its right edge beside the message.
      const mbox = (await menu.boundingBox())!;
      expect(mbox.x).toBeGreaterThanOrEqual(0);
      expect(mbox.x + mbox.width).toBeLessThanOrEqual(390);
      await shot(page, 'features-05-long-press-zh');
      await menu.locator('[data-testid="react-option"][data-emoji="❤️"]').tap();
      await reaction(message(alice.page, 'Ship it on Friday?'), '❤️').filter({ hasText: '1' }).waitFor();
      // Chinese labels for the rest of the features too.
      await page.locator('[data-testid="unsent"]').filter({ hasText: 'Bob 撤回了一条消息' }).waitFor();
      await message(page, 'Deploy at 6pm').getByTestId('edited').filter({ hasText: '（已编辑）' }).waitFor();
    } finally {
      await context.close();
    }
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
});

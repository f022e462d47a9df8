import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { waitUntil } from '../../../test/wait.js';
import { connected, gradientPng, imageLoaded, launch, message, messages, newUser, preflight, send, shot, signIn, type User } from './browser.js';

// The web UI in headless Chromium against a real in-process server: three browser profiles are
// three users. The tests run in order and share the users (a chat is a story).

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

describe.skipIf(skip !== null)('web UI in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let bob: User;
  let base: string;
  let roomId = '';
  let link = '';
  const API_KEY = 'test-api-key-for-the-web-ui-tests';

  beforeAll(async () => {
    server = await startTestServer({ apiKey: API_KEY });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob] = await Promise.all([newUser(browser), newUser(browser)]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in with a nickname and shows the empty app', async () => {
    await alice.page.goto(`${base}/`);
    await alice.page.getByTestId('login').waitFor();
    await shot(alice.page, '01-login');
    await signIn(alice.page, 'Alice');
    await alice.page.getByText('Pick a room on the left').waitFor();
  });

  it('creates a room and shows its shareable link with a copy button', async () => {
    const p = alice.page;
    await p.getByTestId('new-room').click();
    await p.getByLabel('Room name').fill('Design review');
    await shot(p, '02-create-room');
    await p.getByTestId('create-submit').click();
    const share = p.getByTestId('share-link');
    await share.waitFor();
    link = await share.inputValue();
    expect(link).toMatch(new RegExp(`^${base}/#/r/r-[a-z0-9]+$`));
    roomId = decodeURIComponent(link.split('#/r/')[1]!);
    await p.getByTestId('copy-link').waitFor();
    await shot(p, '03-room-created');
    await p.getByTestId('open-created').click();
    await p.locator(`[data-testid="chat"][data-room="${roomId}"]`).waitFor();
    expect(await p.getByTestId('room-title').textContent()).toBe('Design review');
  });

  it('opens the link as a second user, who joins; presence updates on both sides', async () => {
    await bob.page.goto(link);
    await signIn(bob.page, 'Bob');
    await bob.page.locator(`[data-testid="chat"][data-room="${roomId}"]`).waitFor();
    // Alice sees Bob arrive: inline notice, member list, online count.
    await alice.page.getByTestId('notice').filter({ hasText: 'Bob joined' }).waitFor();
    await alice.page.getByTestId('member').filter({ hasText: 'Bob' }).waitFor();
    await alice.page.getByTestId('online-count').filter({ hasText: 'Online — 2' }).waitFor();
    await bob.page.getByTestId('online-count').filter({ hasText: 'Online — 2' }).waitFor();
  });

  it('chats both ways, with typing indicators, own messages aligned apart', async () => {
    // Typing: Bob types, Alice sees it.
    await bob.page.getByTestId('composer').pressSequentially('Hel');
    await alice.page.getByTestId('typing').filter({ hasText: 'Bob is typing…' }).waitFor();
    await bob.page.getByTestId('composer').fill('');

    await send(alice.page, 'Hi Bob! The mockups are ready.');
    await message(bob.page, 'Hi Bob! The mockups are ready.').waitFor();
    await send(bob.page, 'Great, looking now');
    await message(alice.page, 'Great, looking now').waitFor();
    // Shift+Enter is a new line, Enter sends.
    const box = alice.page.getByTestId('composer');
    await box.fill('First line');
    await box.press('Shift+Enter');
    await box.pressSequentially('second line');
    await box.press('Enter');
    await message(bob.page, 'First line\nsecond line').waitFor();

    expect(await message(alice.page, 'Hi Bob! The mockups are ready.').getAttribute('data-mine')).toBe('true');
    expect(await message(alice.page, 'Great, looking now').getAttribute('data-mine')).toBe('false');
    // Mine on the right, theirs on the left.
    const mine = await message(alice.page, 'Hi Bob! The mockups are ready.').locator('.bubble').boundingBox();
    const theirs = await message(alice.page, 'Great, looking now').locator('.bubble').boundingBox();
    expect(mine!.x).toBeGreaterThan(theirs!.x + 100);
    // Sender name on their messages.
    await alice.page.getByTestId('sender').filter({ hasText: 'Bob' }).first().waitFor();
  });

  it('renders what users type as text: no HTML, no script; links are clickable', async () => {
    const xss = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold?</b>';
    await send(bob.page, xss);
    const m = message(alice.page, xss);
    await m.waitFor();
    expect(await m.locator('img, script, b').count()).toBe(0);
    expect(await alice.page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();

    await send(bob.page, 'spec at https://example.com/spec?v=2, and javascript:alert(1) stays text');
    const withLink = message(alice.page, 'spec at https://example.com/spec?v=2, and javascript:alert(1) stays text');
    await withLink.waitFor();
    const a = withLink.locator('a');
    expect(await a.count()).toBe(1);
    expect(await a.getAttribute('href')).toBe('https://example.com/spec?v=2');
    expect(await a.getAttribute('rel')).toContain('noopener');
    expect(await a.getAttribute('target')).toBe('_blank');

    // A long unbroken word wraps inside the bubble instead of widening the page.
    const long = 'x'.repeat(600);
    await send(bob.page, long);
    const box = await message(alice.page, long).locator('.bubble').boundingBox();
    const chat = await alice.page.getByTestId('messages').boundingBox();
    expect(box!.width).toBeLessThan(chat!.width);
    const overflow = await alice.page.getByTestId('messages').evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);

    // Longer than the server takes: the composer says so and keeps the text, nothing is sent
    // (it used to be sent, refused, and left "Not sent" with a Retry that could never work;
    // status-composer.test.ts covers the limit and a refusal from the server).
    await send(bob.page, 'y'.repeat(4001));
    await bob.page.getByTestId('composer-too-long').waitFor();
    expect(await bob.page.getByTestId('composer').inputValue()).toBe('y'.repeat(4001));
    expect(await bob.page.locator('[data-testid="message"][data-state="failed"]').count()).toBe(0);
    await bob.page.getByTestId('composer').fill('');
  });

  it('sends an image (binary frame) that arrives inline as a thumbnail', async () => {
    await alice.page.getByTestId('file-input').setInputFiles({ name: 'mockup.png', mimeType: 'image/png', buffer: gradientPng() });
    await imageLoaded(bob.page, bob.page.locator('[data-testid="chat"] img[alt="mockup.png"]'), 96);
    // On the sender's side, the pending copy became the stored message.
    await alice.page.locator('[data-testid="chat"] [data-testid="image"]').last().waitFor();
    await alice.page.locator('[data-testid="message"][data-state="pending"]').waitFor({ state: 'detached' });
    // Pasting an image into the message box sends it.
    const pasted = gradientPng(40, 40).toString('base64');
    await alice.page.getByTestId('composer').evaluate((el, b64) => {
      const bin = atob(b64);
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(bin, (c) => c.charCodeAt(0))], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, pasted);
    await imageLoaded(bob.page, bob.page.locator('[data-testid="chat"] img[alt="pasted.png"]'), 40);
    // Drag and drop works too: a file dropped on the conversation is sent.
    const png = gradientPng(48, 32).toString('base64');
    await bob.page.getByTestId('chat').evaluate((el, b64) => {
      const bin = atob(b64);
      const file = new File([Uint8Array.from(bin, (c) => c.charCodeAt(0))], 'dropped.png', { type: 'image/png' });
      const dt = new DataTransfer();
      dt.items.add(file);
      el.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, png);
    await imageLoaded(alice.page, alice.page.locator('[data-testid="chat"] img[alt="dropped.png"]'), 48);
    await shot(alice.page, '04-chat-alice');
    await shot(bob.page, '05-chat-bob');
  });

  it('keeps identity and history across a reload', async () => {
    const idBefore = await bob.page.evaluate(() => JSON.parse(localStorage.getItem('roomcast.session') ?? '{}').guestToken as string);
    expect(idBefore).toBeTruthy();
    await bob.page.reload();
    await connected(bob.page);
    expect(await bob.page.getByTestId('me').textContent()).toBe('Bob');
    await message(bob.page, 'Hi Bob! The mockups are ready.').waitFor();
    await message(bob.page, 'Great, looking now').waitFor();
    expect(await message(bob.page, 'Great, looking now').getAttribute('data-mine')).toBe('true');
    // The image from history comes over HTTP and shows.
    for (const [alt, width] of [['mockup.png', 96], ['dropped.png', 48]] as const) {
      await imageLoaded(bob.page, bob.page.locator(`[data-testid="chat"] img[alt="${alt}"]`), width);
    }
    // Still one Bob in the room: the same user, not a new guest.
    await alice.page.getByTestId('online-count').filter({ hasText: 'Online — 2' }).waitFor();
    expect(await alice.page.getByTestId('member').filter({ hasText: 'Bob' }).count()).toBe(1);
  });

  it('counts unread messages in the room list and marks the first unread one', async () => {
    await bob.page.goto(`${base}/#/`);
    await bob.page.getByText('Pick a room on the left').waitFor();
    await send(alice.page, 'Unread one');
    await send(alice.page, 'Unread two');
    const badge = bob.page.locator(`[data-testid="my-room"][data-room="${roomId}"] [data-testid="unread"]`);
    await badge.filter({ hasText: '2' }).waitFor();
    await shot(bob.page, '06-room-list-unread');
    await bob.page.locator(`[data-testid="my-room"][data-room="${roomId}"]`).click();
    const marker = bob.page.getByTestId('unread-marker');
    await marker.waitFor();
    // The marker sits right before "Unread one".
    const next = await marker.evaluate((el) => el.nextElementSibling?.textContent ?? '');
    expect(next).toContain('Unread one');
    // Reading moved the cursor: the badge is gone, and the server agrees.
    await badge.waitFor({ state: 'detached' });
    const probe = await server.connect({ guest: await bob.page.evaluate(() => JSON.parse(localStorage.getItem('roomcast.session') ?? '{}').guestToken as string) });
    try {
      let rooms: Array<{ id: string; unread: number }> = [];
      // Bob's read cursor reaches the server on his page's connection: the probe asks until it has.
      await waitUntil(
        async () => {
          rooms = (await probe.ok('rooms', { scope: 'mine' })).rooms as typeof rooms;
          return rooms.find((r) => r.id === roomId)?.unread === 0;
        },
        { what: "the server to count Bob's room as read", seen: () => `unread ${JSON.stringify(rooms)}` },
      );
    } finally {
      await probe.close();
    }
  });

  it('loads older history when scrolling up', async () => {
    // 80 more messages from the server-side API, so the room has more than one page.
    for (let i = 1; i <= 80; i++) {
      const r = await fetch(`${base}/api/rooms/${roomId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `history #${i}`, from: { id: 'bot', name: 'Changelog bot' } }),
      });
      expect(r.status).toBe(201);
    }
    const carol = await newUser(browser);
    try {
      await carol.page.goto(link);
      await signIn(carol.page, 'Carol');
      await message(carol.page, 'history #80').waitFor();
      expect(await message(carol.page, 'Hi Bob! The mockups are ready.').count()).toBe(0);
      // Scroll to the top until the first message of the room is there.
      const list = carol.page.getByTestId('messages');
      const first = message(carol.page, 'Hi Bob! The mockups are ready.');
      while ((await first.count()) === 0) {
        const n = await messages(carol.page).count();
        await list.evaluate((el) => el.scrollTo({ top: 0 }));
        await carol.page.waitForFunction((before) => document.querySelectorAll('[data-testid="chat"] [data-testid="message"]').length > before, n);
      }
      await carol.page.getByText('This is the beginning of the conversation.').waitFor();
      // Every stored message once, in order.
      const seqs = await messages(carol.page).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    } finally {
      await carol.context.close();
    }
  });

  it('opens a direct conversation by clicking a member', async () => {
    await alice.page.getByTestId('member').filter({ hasText: 'Bob' }).click();
    await alice.page.getByTestId('room-title').filter({ hasText: 'Bob' }).waitFor();
    await send(alice.page, 'Just between us: ship it Friday?');
    // Bob gets the conversation in his list with an unread badge.
    await bob.page.goto(`${base}/#/`);
    const dm = bob.page.getByTestId('dm-room').filter({ hasText: 'Alice' });
    await dm.locator('[data-testid="unread"]').waitFor();
    await dm.click();
    await message(bob.page, 'Just between us: ship it Friday?').waitFor();
    await send(bob.page, 'Yes, Friday');
    await message(alice.page, 'Yes, Friday').waitFor();
    await shot(alice.page, '07-direct-message');
  });

  it('shows pending messages while the server is down and delivers them once on reconnect', async () => {
    await alice.page.goto(link);
    await message(alice.page, 'Unread two').waitFor();
    await bob.page.goto(link);
    await message(bob.page, 'Unread two').waitFor();
    const port = server.port;
    const dataDir = server.dataDir;
    await server.close();
    await alice.page.locator('[data-testid="conn"]:not([data-state="connected"]):visible').waitFor();
    await send(alice.page, 'Written while offline');
    const pending = message(alice.page, 'Written while offline');
    await pending.and(alice.page.locator('[data-state="pending"]')).waitFor();
    await alice.page.locator('[data-testid="conn"]:visible').filter({ hasText: /Reconnecting|Offline|Connecting/ }).waitFor();
    await shot(alice.page, '08-offline-pending');
    server = await startTestServer({ apiKey: API_KEY, dataDir, port });
    await connected(alice.page);
    await message(alice.page, 'Written while offline').and(alice.page.locator('[data-state="sent"]')).waitFor();
    await message(bob.page, 'Written while offline').waitFor();
    await connected(bob.page);
    // Once each, on both sides, even after everything settled.
    await send(bob.page, 'Back online');
    await message(alice.page, 'Back online').waitFor();
    expect(await message(alice.page, 'Written while offline').count()).toBe(1);
    expect(await message(bob.page, 'Written while offline').count()).toBe(1);
  });

  it('shows room-full and not-found errors as readable notices', async () => {
    const p = alice.page;
    await p.getByTestId('new-room').click();
    await p.getByLabel('Room name').fill('Pair');
    await p.getByLabel('Capacity').fill('2');
    await p.getByTestId('create-submit').click();
    const pairLink = await p.getByTestId('share-link').inputValue();
    await p.getByTestId('open-created').click();
    await bob.page.goto(pairLink);
    await bob.page.getByTestId('room-title').filter({ hasText: 'Pair' }).waitFor();

    const carol = await newUser(browser);
    try {
      await carol.page.goto(pairLink);
      await signIn(carol.page, 'Carol');
      // Explained in place of the room (it used to be a toast and a bounce home).
      await carol.page.locator('[data-testid="join-refused"][data-code="room_full"]').filter({ hasText: 'This room is full' }).waitFor();
      await shot(carol.page, '09-room-full');
      // Bob leaves: Alice sees it, and now there is room for Carol.
      await bob.page.getByTestId('leave').click();
      // Bob came and went with nothing said in between: his "joined" and "left" cancel out
      // (notices.ts), so Alice sees him leave the member list, not a notice.
      await alice.page.getByTestId('member').filter({ hasText: 'Bob' }).waitFor({ state: 'detached' });
      await bob.page.getByText('Pick a room on the left').waitFor();
      await carol.page.getByTestId('join-id').fill(pairLink);
      await carol.page.getByTestId('join-btn').click();
      await carol.page.getByTestId('room-title').filter({ hasText: 'Pair' }).waitFor();
      // Another guest called Carol took part earlier (the history test): this one has a tag.
      await alice.page.getByTestId('notice').filter({ hasText: /^Carol #\d{4} joined$/ }).waitFor();

      await carol.page.goto(`${base}/#/r/no-such-room`);
      await carol.page.locator('[data-testid="join-refused"][data-code="room_not_found"]').filter({ hasText: 'There is no room “no-such-room”' }).waitFor();
      expect(carol.errors).toEqual([]);
    } finally {
      await carol.context.close();
    }
  });

  it('switches to Chinese and works on a phone-sized screen', async () => {
    await alice.page.goto(link);
    await alice.page.getByTestId('room-title').filter({ hasText: 'Design review' }).waitFor();
    const phone = await newUser(browser, { viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    try {
      await phone.page.goto(link);
      // Chosen from the browser's language.
      await phone.page.getByRole('button', { name: '进入' }).waitFor();
      await phone.page.getByLabel('昵称').fill('小明');
      await phone.page.getByRole('button', { name: '进入' }).click();
      await phone.page.locator(`[data-testid="chat"][data-room="${roomId}"]`).waitFor();
      await connected(phone.page);
      await send(phone.page, '大家好！这是手机上的消息。');
      await message(alice.page, '大家好！这是手机上的消息。').waitFor();
      await phone.page.locator('[data-testid="conn"]:visible').filter({ hasText: '已连接' }).waitFor();
      const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(390);
      await shot(phone.page, '10-phone-chat-zh');
      await phone.page.goto(`${base}/#/`);
      await phone.page.getByText('我的聊天室').waitFor();
      await shot(phone.page, '11-phone-rooms-zh');
      // And back to English from the switcher.
      await phone.page.getByTestId('lang').selectOption('en');
      await phone.page.getByText('My rooms').waitFor();
    } finally {
      await phone.context.close();
    }
  });

  it('shows live server stats on the admin page', async () => {
    const p: Page = alice.page;
    await p.goto(`${base}/#/admin`);
    await p.getByTestId('admin').waitFor();
    // (The page's CSP forbids eval, so each check is a plain function.)
    await p.waitForFunction(() => Number(document.querySelector('[data-testid="stat-connections"]')?.textContent?.replace(/[,\s]/g, '')) >= 2);
    await p.waitForFunction(() => document.querySelectorAll('[data-testid="chart"] polyline').length === 1);
    await bob.page.goto(link);
    await connected(bob.page);
    const before = await p.evaluate(() => Number(document.querySelector('[data-testid="stat-in"]')?.textContent?.replace(/[,\s]/g, '')));
    await send(bob.page, 'stats, please');
    await p.waitForFunction((n) => Number(document.querySelector('[data-testid="stat-in"]')?.textContent?.replace(/[,\s]/g, '')) > n, before);
    await shot(p, '12-admin');
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
});

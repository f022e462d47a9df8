import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestClient, type TestServer } from '../../server/test/helpers.js';
import { tagOf } from '../src/lib/name-tags.js';
import { connected, createRoom, launch, message, newUser, preflight, send, signIn, type User } from './browser.js';

// People in Chromium against a real server: two real users both signed in as "Alice" told apart
// by their tags wherever names show, the same for every viewer and after a reload; and runs of
// join/leave notices merged into one line, in English and Chinese.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

/** The user id behind this page (its session, as the welcome gave it). */
async function userId(page: Page): Promise<string> {
  const id = await page.locator('[data-testid="member"][disabled]').getAttribute('data-user');
  if (!id) throw new Error('no own entry in the member list');
  return id;
}

describe.skipIf(skip !== null)('same-name tags and merged notices in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let carol: User;
  let alice1: User;
  let alice2: User;
  const bots: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [carol, alice1, alice2] = await Promise.all([newUser(browser), newUser(browser), newUser(browser)]);
    await carol.page.goto(`${base}/`);
    await signIn(carol.page, 'Carol');
  });

  afterAll(async () => {
    for (const b of bots) await b.close();
    await browser?.close();
    await server?.close();
  });

  it('tells two users called Alice apart everywhere names show, the same for every viewer and after a reload', async () => {
    const { link, id: roomId } = await createRoom(carol.page, 'Twins');
    for (const a of [alice1, alice2]) {
      await a.page.goto(link);
      await signIn(a.page, 'Alice');
    }
    await carol.page.getByTestId('online-count').filter({ hasText: 'Online — 3' }).waitFor();
    const [id1, id2] = [await userId(alice1.page), await userId(alice2.page)];
    expect(id1).not.toBe(id2);
    const [name1, name2] = [`Alice #${tagOf(id1)}`, `Alice #${tagOf(id2)}`];
    expect(name1).not.toBe(name2);

    // Members: Carol sees both tags; each Alice sees the other's tag, and her own beside "(you)".
    const member = (p: Page, id: string) => p.locator(`[data-testid="member"][data-user="${id}"] .who`);
    for (const p of [carol.page, alice1.page, alice2.page]) {
      await member(p, id1).filter({ hasText: name1 }).waitFor();
      await member(p, id2).filter({ hasText: name2 }).waitFor();
    }
    expect(await carol.page.locator('[data-testid="member"] .who').filter({ hasText: /^Carol$/ }).count()).toBe(1);
    await alice1.page.locator(`[data-testid="member"][data-user="${id1}"]`).filter({ hasText: '(you)' }).waitFor();

    // Typing (first: the composer sends a typing notice at most every few seconds).
    await alice2.page.getByTestId('composer').pressSequentially('typ');
    await carol.page.getByTestId('typing').filter({ hasText: `${name2} is typing…` }).waitFor();
    await alice2.page.getByTestId('composer').fill('');

    // Messages.
    await send(alice1.page, 'I am the first Alice');
    await send(alice2.page, 'And I am the second');
    const sender = (p: Page, text: string) => message(p, text).getByTestId('sender');
    await sender(carol.page, 'I am the first Alice').filter({ hasText: name1 }).waitFor();
    await sender(carol.page, 'And I am the second').filter({ hasText: name2 }).waitFor();
    await sender(alice1.page, 'And I am the second').filter({ hasText: name2 }).waitFor();

    // The reply bar names the one answered.
    const second = message(carol.page, 'And I am the second');
    await second.hover();
    await second.getByTestId('reply-btn').click();
    await carol.page.getByTestId('intent').filter({ hasText: `Replying to ${name2}` }).waitFor();
    await carol.page.getByTestId('intent-cancel').click();

    // Mention suggestions.
    await carol.page.getByTestId('composer').pressSequentially('@Al');
    const options = carol.page.getByTestId('mention-option');
    await options.filter({ hasText: name1 }).waitFor();
    await options.filter({ hasText: name2 }).waitFor();
    // Picking the second Alice mentions her alone, though "@Alice" is the name of both.
    await options.filter({ hasText: name2 }).click();
    await carol.page.getByTestId('composer').press('End');
    await carol.page.getByTestId('composer').pressSequentially('see this');
    await carol.page.getByTestId('composer').press('Enter');
    await message(alice1.page, '@Alice see this').waitFor();
    const [stored] = await server.core.store.messagesBefore(roomId, null, 1);
    expect(stored).toMatchObject({ text: '@Alice see this', mentions: [id2] });

    // The direct-message list.
    await alice2.page.locator(`[data-testid="member"]`).filter({ hasText: 'Carol' }).click();
    await send(alice2.page, 'A word in private');
    await carol.page.getByTestId('dm-room').filter({ hasText: name2 }).waitFor();

    // After a reload, the same tags (they come from the ids, not from who arrived first).
    await carol.page.goto(link);
    await carol.page.reload();
    await connected(carol.page);
    await member(carol.page, id1).filter({ hasText: name1 }).waitFor();
    await member(carol.page, id2).filter({ hasText: name2 }).waitFor();
    await sender(carol.page, 'I am the first Alice').filter({ hasText: name1 }).waitFor();
    await carol.page.getByTestId('dm-room').filter({ hasText: name2 }).waitFor();
    expect([...carol.errors, ...alice1.errors, ...alice2.errors]).toEqual([]);
  });

  it('merges runs of join/leave notices into one line, in English and Chinese', async () => {
    await carol.page.goto(`${base}/#/`);
    const { link, id } = await createRoom(carol.page, 'Arrivals');
    const zh = await newUser(browser, { locale: 'zh-CN' });
    try {
      await zh.page.goto(link);
      await zh.page.getByLabel('昵称').fill('王芳');
      await zh.page.getByRole('button', { name: '进入' }).click();
      await zh.page.locator(`[data-testid="chat"][data-room="${id}"]`).waitFor();
      await carol.page.getByTestId('notice').filter({ hasText: '王芳 joined' }).waitFor();
      await send(carol.page, 'Welcome, everyone');
      await message(zh.page, 'Welcome, everyone').waitFor();

      // Two real WebSocket clients join: one line, not two.
      const join = async (name: string, params: Record<string, string> = { name }) => {
        const c = await server.connect(params);
        await c.ok('join', { room: id });
        bots.push(c);
        return c;
      };
      const bob = await join('Bob');
      const ming = await join('小明');
      const last = (p: Page) => p.getByTestId('notice').last();
      await last(carol.page).filter({ hasText: /^Bob and 小明 joined$/ }).waitFor();
      await last(zh.page).filter({ hasText: /^Bob 和 小明 加入了$/ }).waitFor();

      // Bob reloads (gone, then back as the same user): nothing new to say.
      const token = bob.welcome.guestToken!;
      await bob.close();
      bots.splice(bots.indexOf(bob), 1);
      await last(carol.page).filter({ hasText: /^小明 joined$/ }).waitFor();
      const bobAgain = await join('Bob', { guest: token });
      await last(carol.page).filter({ hasText: /^Bob and 小明 joined$/ }).waitFor();
      expect(await carol.page.getByTestId('notice').count()).toBe(2);
      // More than three: two names and a count.
      const dan = await join('Dan');
      const eve = await join('Eve');
      await last(carol.page).filter({ hasText: /^Bob, 小明 and 2 others joined$/ }).waitFor();
      await last(zh.page).filter({ hasText: /^Bob、小明 和另外 2 人 加入了$/ }).waitFor();

      // After a message, a new run: all four leave, in the order they came.
      await send(carol.page, 'Time to go?');
      await message(zh.page, 'Time to go?').waitFor();
      for (const [b, name] of [[bobAgain, 'Bob'], [ming, '小明'], [dan, 'Dan'], [eve, 'Eve']] as const) {
        await b.close();
        // (Eve is the fourth: one of "2 others".)
        if (name !== 'Eve') await last(carol.page).filter({ hasText: name }).filter({ hasText: /left$/ }).waitFor();
      }
      await last(carol.page).filter({ hasText: /^Bob, 小明 and 2 others left$/ }).waitFor();
      await zh.page.getByTestId('notice').filter({ hasText: /^Bob、小明 和另外 2 人 离开了$/ }).waitFor();
      expect(await carol.page.getByTestId('notice').count()).toBe(3);
      expect([...carol.errors, ...zh.errors]).toEqual([]);
    } finally {
      await zh.context.close();
    }
  });
});

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { binaryFrame, startTestServer, type TestClient, type TestServer } from '../../server/test/helpers.js';
import { connected, gradientPng, imageLoaded, message, newUser, send, type User } from './browser.js';

// Every screen of the web UI, reached the way a user reaches it, for the screenshots and the
// accessibility check (screens.test.ts): one walk through the app per language
// and screen size, calling `visit` at each screen with its name and the test id that shows it.
// The rooms are filled beforehand by real WebSocket clients: an English room, a Chinese one
// (Chinese names, messages and emoji), and a private room the viewer is refused.

export type Lang = 'en' | 'zh';
export type Size = 'desktop' | 'phone';

export const SIZES: Record<Size, { width: number; height: number }> = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
export const LOCALES: Record<Lang, string> = { en: 'en-US', zh: 'zh-CN' };

export const API_KEY = 'test-api-key-for-the-screens-walk';

interface RoomSeed {
  title: string;
  people: [string, string];
  lines: { from: 0 | 1; text: string }[];
  reply: string;
  mine: string;
  search: string;
  /** Two who arrive while the viewer looks: one merged notice ("Eve and Frank joined"). */
  arrivals: [string, string];
  /** The viewer's name for each screen size: two people, each with messages of their own. */
  viewer: Record<Size, string>;
}

const SEEDS: Record<Lang, RoomSeed> = {
  en: {
    title: 'Design review',
    people: ['Bob', 'Carol'],
    lines: [
      { from: 0, text: 'Morning! The mockups for the launch page are ready 🎨' },
      { from: 1, text: 'Great, looking now' },
      { from: 1, text: 'The header feels a bit heavy on phones' },
    ],
    reply: 'Agreed, I will try a lighter one 👍',
    mine: 'Can we ship it on Friday?',
    search: 'mockups',
    arrivals: ['Eve', 'Frank'],
    viewer: { desktop: 'Dana', phone: 'Erin' },
  },
  zh: {
    title: '周末聚会',
    people: ['小明', '王芳'],
    lines: [
      { from: 0, text: '大家好！周六下午去爬山怎么样？⛰️' },
      { from: 1, text: '好呀，我带水果 🍉' },
      { from: 1, text: '几点在地铁站集合？' },
    ],
    reply: '下午两点，不见不散 😄',
    mine: '我也去！需要带什么吗？',
    search: '爬山',
    arrivals: ['小红', '小刚'],
    viewer: { desktop: '李雷', phone: '韩梅梅' },
  },
};

export interface World {
  server: TestServer;
  base: string;
  rooms: Record<Lang, { id: string; link: string }>;
  privateLink: string;
  clients: TestClient[];
}

async function sendImage(c: TestClient, room: string, name: string): Promise<void> {
  const ref = `img-${name}`;
  c.sendRaw(binaryFrame({ op: 'send', ref, room, mime: 'image/png', name }, gradientPng(320, 200)));
  const r = await c.next('reply', (f) => f.ref === ref);
  if (!r.ok) throw new Error(`image send failed: ${JSON.stringify(r.error)}`);
}

/** A server with the rooms filled: messages, an image, a reply with a mention, reactions. */
export async function makeWorld(): Promise<World> {
  const server = await startTestServer({ apiKey: API_KEY, httpRate: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  const clients: TestClient[] = [];
  const rooms = {} as World['rooms'];
  for (const lang of ['en', 'zh'] as const) {
    const seed = SEEDS[lang];
    const [a, b] = [await server.connect({ name: seed.people[0] }), await server.connect({ name: seed.people[1] })];
    clients.push(a, b);
    const id = (await a.ok('create', { title: seed.title, visibility: 'public' })).room.id as string;
    await b.ok('join', { room: id });
    const seqs: number[] = [];
    for (const l of seed.lines) seqs.push((await [a, b][l.from]!.ok('send', { room: id, text: l.text })).seq as number);
    await sendImage(a, id, lang === 'en' ? 'mockup.png' : '山顶.png');
    await a.ok('send', { room: id, text: `@${seed.people[1]} ${seed.reply}`, replyTo: seqs[2], mentions: [b.userId] });
    for (const [c, emoji] of [[a, '👍'], [b, '👍'], [b, '🎉']] as const) await c.ok('react', { room: id, seq: seqs[0], emoji });
    rooms[lang] = { id, link: `${base}/#/r/${encodeURIComponent(id)}` };
  }
  const owner = clients[0]!;
  const secret = (await owner.ok('create', { title: 'Secret plans', visibility: 'private' })).room.id as string;
  return { server, base, rooms, privateLink: `${base}/#/r/${encodeURIComponent(secret)}`, clients };
}

export async function closeWorld(w: World | undefined): Promise<void> {
  for (const c of w?.clients ?? []) await c.close();
  await w?.server.close();
}

/** Called at each screen; the walk goes on once it resolves. */
export type Visit = (screen: string, testid: string, page: Page) => Promise<void>;

/**
 * Every screen of the app, in one browser profile of this language and size. `prepare` runs on
 * the profile before the first page loads (init scripts).
 */
export async function walk(browser: Browser, world: World, lang: Lang, size: Size, visit: Visit, prepare?: (c: BrowserContext) => Promise<void>): Promise<User> {
  const user = await newUser(browser, { viewport: SIZES[size], locale: LOCALES[lang] });
  await prepare?.(user.context);
  const p = user.page;
  const seed = SEEDS[lang];
  const phone = size === 'phone';
  const room = world.rooms[lang];
  const at = async (screen: string, testid: string) => {
    await p.getByTestId(testid).first().waitFor();
    await visit(screen, testid, p);
  };

  await p.goto(`${world.base}/`);
  await at('login', 'login');
  await p.locator('#nickname').fill(seed.viewer[size]);
  await p.locator('[data-testid="login"] button[type="submit"]').click();
  await connected(p);
  await at('empty', 'new-room');

  await p.getByTestId('new-room').click();
  await at('create-dialog', 'create-dialog');
  await p.keyboard.press('Escape');
  await p.getByTestId('create-dialog').waitFor({ state: 'detached' });

  await p.goto(world.privateLink);
  await at('join-refused', 'join-refused');

  await p.goto(room.link);
  await p.getByTestId('chat').waitFor();
  await connected(p);
  await send(p, seed.mine);
  const mine = p.locator('[data-testid="message"][data-mine="true"][data-state="sent"]').filter({ hasText: seed.mine });
  await mine.waitFor();
  await imageLoaded(p, p.locator('[data-testid="chat"] [data-testid="image"]'), 320);
  await p.getByTestId('reaction').first().waitFor();
  await p.getByTestId('quote').first().waitFor();
  const arrivals: TestClient[] = [];
  for (const name of seed.arrivals) {
    const c = await world.server.connect({ name });
    arrivals.push(c);
    await c.ok('join', { room: room.id });
  }
  await p.getByTestId('notice').filter({ hasText: seed.arrivals[1] }).filter({ hasText: seed.arrivals[0] }).waitFor();
  await p.mouse.move(0, 0);
  await at('chat', 'chat');

  if (phone) await p.locator('.members-toggle').click();
  await at('members', 'members');
  if (phone) await p.locator('.members-toggle').click();

  await message(p, seed.lines[0]!.text).getByTestId('more-btn').click();
  await at('message-menu', 'msg-menu');
  await p.keyboard.press('Escape');
  await p.getByTestId('msg-menu').waitFor({ state: 'detached' });

  await mine.getByTestId('more-btn').click();
  await p.getByTestId('action-unsend').click();
  await at('confirm-dialog', 'confirm');
  await p.getByTestId('confirm-cancel').click();
  await p.getByTestId('confirm').waitFor({ state: 'detached' });

  await p.getByTestId('image-open').first().click();
  await at('image-viewer', 'image-viewer');
  await p.keyboard.press('Escape');
  await p.getByTestId('image-viewer').waitFor({ state: 'detached' });

  await p.getByTestId('invite').click();
  await at('invite-dialog', 'invite-dialog');
  await p.keyboard.press('Escape');
  await p.getByTestId('invite-dialog').waitFor({ state: 'detached' });

  if (phone) await p.goto(`${world.base}/#/`);
  await p.getByTestId('search').fill(seed.search);
  await p.getByTestId('search-hit').first().waitFor();
  await at('search', 'search-results');
  await p.getByTestId('search-clear').click();

  if (phone) await p.goto(`${world.base}/#/`);
  await p.getByTestId('sign-out').click();
  await at('signout-dialog', 'signout-dialog');
  await p.getByTestId('signout-stay').click();
  await p.getByTestId('signout-dialog').waitFor({ state: 'detached' });

  await p.goto(`${world.base}/#/admin`);
  await p.waitForFunction(() => Number(document.querySelector('[data-testid="stat-connections"]')?.textContent?.replace(/[,\s]/g, '')) >= 1);
  await at('admin', 'admin');
  await p.getByTestId('admin-key').fill(API_KEY);
  await p.getByTestId('admin-key-submit').click();
  await p.getByTestId('admin-rooms').scrollIntoViewIfNeeded();
  await at('admin-rooms', 'admin-rooms');
  await p.getByTestId('admin-users').scrollIntoViewIfNeeded();
  await at('admin-users', 'admin-users');
  for (const c of arrivals) await c.close();
  return user;
}

/** The screens `walk` visits, in order. */
export const SCREENS = [
  'login',
  'empty',
  'create-dialog',
  'join-refused',
  'chat',
  'members',
  'message-menu',
  'confirm-dialog',
  'image-viewer',
  'invite-dialog',
  'search',
  'signout-dialog',
  'admin',
  'admin-rooms',
  'admin-users',
] as const;

/**
 * The visible controls smaller than 44×44 px, described. Links inside message text are exempt
 * (WCAG 2.5.8's inline exception), as is the skip link while it waits off screen; a checkbox
 * counts with its label, which takes the tap too.
 */
export function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const els = document.querySelectorAll<HTMLElement>('button, a[href], input:not([type="hidden"]), select, textarea, [role="option"], [role="menuitem"], [role="tab"]');
    for (const el of els) {
      if (el.closest('.bubble [data-testid="text"]') || el.classList.contains('skip-link')) continue;
      const target = (el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio') && el.closest('label')) || el;
      if (!target.checkVisibility({ opacityProperty: false, visibilityProperty: true })) continue;
      const r = target.getBoundingClientRect();
      if (r.width === 0 || r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) continue;
      if (r.width < 43.5 || r.height < 43.5) {
        const name = el.getAttribute('aria-label') ?? el.getAttribute('data-testid') ?? el.textContent?.trim().slice(0, 20) ?? '';
        out.push(`${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} "${name}" ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return out;
  });
}

import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

// Headless Chromium from Debian (`apt-get install chromium`), driven by playwright-core: no
// browser download. Waiting is always for a selector or a condition in the page, never a sleep.

export const CHROMIUM = process.env.ROOMCAST_CHROMIUM ?? '/usr/bin/chromium';
export const WEB_DIST = process.env.ROOMCAST_WEB_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));
export const SHOTS = process.env.ROOMCAST_SCREENSHOTS ?? fileURLToPath(new URL('../test-output/screenshots/', import.meta.url));

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function preflight(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(join(WEB_DIST, 'index.html'))) return 'the web UI is not built (npm run build)';
  return null;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

export const WAIT = 15_000;

export interface User {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions the page reported. */
  errors: string[];
}

/** A fresh browser profile (its own localStorage) with one page. */
export async function newUser(browser: Browser, options: { viewport?: { width: number; height: number }; locale?: string } = {}): Promise<User> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    locale: options.locale ?? 'en-US',
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { context, page, errors };
}

/** Signs in as a guest from the login screen and waits for the app. */
export async function signIn(page: Page, name: string): Promise<void> {
  await page.getByLabel('Nickname').fill(name);
  await page.getByRole('button', { name: 'Enter' }).click();
  await page.getByTestId('me').filter({ hasText: name }).waitFor();
  await connected(page);
}

export async function connected(page: Page): Promise<void> {
  // The status shows in the sidebar, and on phones in the chat header: whichever is visible.
  await page.locator('[data-testid="conn"][data-state="connected"]:visible').first().waitFor();
}

export function messages(page: Page): Locator {
  return page.locator('[data-testid="chat"] [data-testid="message"]');
}

/** The message bubble with exactly this text. */
export function message(page: Page, text: string): Locator {
  return messages(page).filter({ has: page.getByTestId('text').getByText(text, { exact: true }) });
}

/** Waits until the image has loaded and decoded at its natural width (a broken image is 0). */
export async function imageLoaded(page: Page, img: Locator, width: number): Promise<void> {
  await img.waitFor();
  await page.waitForFunction(([el, w]) => el instanceof HTMLImageElement && el.complete && el.naturalWidth === w, [await img.elementHandle(), width] as const);
}

/** Creates a room from the sidebar (en or zh-CN), opens it, and returns its share link and id. */
export async function createRoom(page: Page, title: string): Promise<{ link: string; id: string }> {
  await page.getByTestId('new-room').click();
  await page.getByLabel(/Room name|聊天室名称/).fill(title);
  await page.getByTestId('create-submit').click();
  const link = await page.getByTestId('share-link').inputValue();
  await page.getByTestId('open-created').click();
  return { link, id: decodeURIComponent(link.split('#/r/')[1]!) };
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByTestId('composer');
  await box.fill(text);
  await box.press('Enter');
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** A real PNG (an indigo-to-pink gradient), encoded here without any image library. */
export function gradientPng(width = 96, height = 64): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      raw[row + 1 + x * 3] = Math.round(79 + (236 - 79) * t);
      raw[row + 2 + x * 3] = Math.round(70 + (72 - 70) * t);
      raw[row + 3 + x * 3] = Math.round(229 + (153 - 229) * t);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** axe-core's script. The page's CSP refuses injected scripts, so preload it: `context.addInitScript({ path: AXE })`. */
export const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2.0–2.2 A and AA rules) on the page as it is now and returns the serious
 * and critical violations, each with the selectors of the elements that fail.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) throw new Error('axe-core is not in the page: preload it with context.addInitScript({ path: AXE }) before the page loads (the CSP blocks script tags)');
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }, resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  });
}

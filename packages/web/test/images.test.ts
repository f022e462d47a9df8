import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import type { Message, RoomcastClient } from '@roomcast/client';
import { fileSrc, imageFailed, imageSrc, watchFileKey } from '../src/lib/files.js';
import { setClient, type ImageRef } from '../src/lib/store.js';
import { dropUpload, hasUpload, keepUpload, MAX_FILES, uploadCount } from '../src/lib/uploads.js';
import { gradientPng, imageLoaded, launch, newUser, preflight, shot, signIn, type User } from './browser.js';

// Images: shown in an in-page viewer (full size, name, download, ← →, Esc / outside / close,
// focus kept inside and given back), fetched with the SDK's file key and never with the sign-in
// token; a failed image send keeps its file, so Retry sends the image again.

const skip = preflight();

/** Every URL the page shows (img src, a href) and every request it made, as text. */
async function urlsIn(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll('img[src], a[href], [srcset]')].map((el) => el.getAttribute('src') ?? el.getAttribute('href') ?? el.getAttribute('srcset') ?? ''));
}

const guestToken = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('roomcast.session') ?? '{}').guestToken as string);

describe('kept files of failed image sends (lib/uploads.ts)', () => {
  it('keeps at most MAX_FILES, letting the oldest go first', () => {
    const file = (n: number) => new File([new Uint8Array(10)], `f${n}.png`, { type: 'image/png' });
    for (let i = 0; i < MAX_FILES + 5; i++) keepUpload(`k${i}`, file(i));
    expect(uploadCount()).toBe(MAX_FILES);
    expect(hasUpload('k0')).toBe(false);
    expect(hasUpload('k4')).toBe(false);
    expect(hasUpload('k5')).toBe(true);
    expect(hasUpload(`k${MAX_FILES + 4}`)).toBe(true);
    for (let i = 0; i < MAX_FILES + 5; i++) dropUpload(`k${i}`);
    expect(uploadCount()).toBe(0);
  });
});

describe('image URLs across file keys (lib/files.ts)', () => {
  it('keeps the URL an image was shown with when a new key comes; one that failed to load gets the current key', () => {
    let key = 'k1';
    const listeners: (() => void)[] = [];
    const fake = {
      fileUrl: (m: Message) => `/api/rooms/${m.room}/files/${m.seq}?key=${key}`,
      on: (_event: string, fn: () => void) => {
        listeners.push(fn);
        return () => {};
      },
    };
    setClient(fake as unknown as RoomcastClient);
    watchFileKey(fake as unknown as RoomcastClient);
    const image = (seq: number): ImageRef => ({ url: '', mime: 'image/png', size: 1, message: { room: 'r1', seq } as Message });
    const a = image(1);
    expect(imageSrc(a)).toBe('/api/rooms/r1/files/1?key=k1');
    // A new key (half its life, or a reconnect): links take it, a shown image keeps its URL, so
    // the browser does not fetch it again; an image shown for the first time takes the new key.
    key = 'k2';
    listeners.forEach((fn) => fn());
    expect(fileSrc(a)).toBe('/api/rooms/r1/files/1?key=k2');
    expect(imageSrc(a)).toBe('/api/rooms/r1/files/1?key=k1');
    expect(imageSrc(image(1))).toBe('/api/rooms/r1/files/1?key=k1');
    expect(imageSrc(image(2))).toBe('/api/rooms/r1/files/2?key=k2');
    // Its key expired and it failed to load: the next render asks with the current key.
    imageFailed(a);
    expect(imageSrc(a)).toBe('/api/rooms/r1/files/1?key=k2');
    // Bytes this page has stay a blob: URL.
    expect(imageSrc({ ...image(3), url: 'blob:here' })).toBe('blob:here');
    setClient(null);
  });
});

describe.skipIf(skip !== null)('images in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: User;
  let bob: User;
  let base: string;
  let link = '';
  /** Every request Bob's page made. */
  const bobRequests: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
    [alice, bob] = await Promise.all([newUser(browser), newUser(browser)]);
    bob.page.on('request', (r) => bobRequests.push(r.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('fetches files with a file key, never with the sign-in token', async () => {
    await alice.page.goto(`${base}/`);
    await signIn(alice.page, 'Alice');
    await alice.page.getByTestId('new-room').click();
    await alice.page.getByLabel('Room name').fill('Photos');
    await alice.page.getByTestId('create-submit').click();
    link = await alice.page.getByTestId('share-link').inputValue();
    await alice.page.getByTestId('open-created').click();
    await alice.page.getByTestId('chat').waitFor();

    await bob.page.goto(link);
    await signIn(bob.page, 'Bob');
    await bob.page.getByTestId('chat').waitFor();
    for (const [name, w, h] of [['first.png', 96, 64], ['second.png', 60, 40], ['third.png', 30, 20]] as const) {
      await alice.page.getByTestId('file-input').setInputFiles({ name, mimeType: 'image/png', buffer: gradientPng(w, h) });
      await imageLoaded(bob.page, bob.page.locator(`[data-testid="chat"] img[alt="${name}"]`), w);
    }
    // After a reload the images come over HTTP, from history.
    await bob.page.reload();
    for (const [name, w] of [['first.png', 96], ['second.png', 60], ['third.png', 30]] as const) {
      await imageLoaded(bob.page, bob.page.locator(`[data-testid="chat"] img[alt="${name}"]`), w);
    }
    const token = await guestToken(bob.page);
    expect(token).toBeTruthy();
    const shown = await urlsIn(bob.page);
    const files = bobRequests.filter((u) => u.includes('/files/'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const u of files) expect(u).toMatch(/[?&]key=/);
    for (const u of [...shown, ...bobRequests]) {
      expect(u).not.toContain('token=');
      expect(u).not.toContain(token);
      expect(u).not.toContain(encodeURIComponent(token));
    }
    // No link opens a raw file in a new tab: a thumbnail is a button that opens the viewer.
    expect(await bob.page.locator('[data-testid="chat"] a[target="_blank"] img').count()).toBe(0);
  });

  it('opens an image in the page at full size, with its name, a download link and ← →', async () => {
    const p = bob.page;
    const thumb = p.locator('[data-testid="image-open"]').filter({ has: p.locator('img[alt="first.png"]') });
    await thumb.click();
    const viewer = p.getByTestId('image-viewer');
    await viewer.waitFor();
    expect(await viewer.getAttribute('role')).toBe('dialog');
    expect(await viewer.getAttribute('aria-modal')).toBe('true');
    await imageLoaded(p, p.getByTestId('viewer-image'), 96);
    expect(await p.getByTestId('viewer-name').textContent()).toBe('first.png');
    // Larger than the thumbnail would be, and within the screen.
    const box = (await p.getByTestId('viewer-image').boundingBox())!;
    const vp = p.viewportSize()!;
    expect(box.width).toBeGreaterThanOrEqual(96);
    expect(box.x + box.width).toBeLessThanOrEqual(vp.width);
    expect(box.y + box.height).toBeLessThanOrEqual(vp.height);
    const dl = p.getByTestId('viewer-download');
    expect(await dl.getAttribute('download')).toBe('first.png');
    expect(await dl.getAttribute('href')).toMatch(/\/files\/\d+\?key=/);
    expect(await p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('viewer-close');
    await shot(p, 'images-01-viewer');

    // Tab stays in the dialog.
    for (let i = 0; i < 6; i++) {
      await p.keyboard.press(i % 2 ? 'Shift+Tab' : 'Tab');
      expect(await p.evaluate(() => !!document.activeElement?.closest('[data-testid="image-viewer"]'))).toBe(true);
    }
    // Arrow keys move between the room's images.
    await p.keyboard.press('ArrowRight');
    await p.getByTestId('viewer-name').filter({ hasText: 'second.png' }).waitFor();
    await imageLoaded(p, p.getByTestId('viewer-image'), 60);
    expect(await p.getByTestId('viewer-pos').textContent()).toBe('2 of 3');
    await p.getByTestId('viewer-next').click();
    await p.getByTestId('viewer-name').filter({ hasText: 'third.png' }).waitFor();
    expect(await p.getByTestId('viewer-next').count()).toBe(0);
    await p.keyboard.press('ArrowLeft');
    await p.keyboard.press('ArrowLeft');
    await p.getByTestId('viewer-name').filter({ hasText: 'first.png' }).waitFor();

    // Esc closes it and gives focus back to the thumbnail.
    await p.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    expect(await p.evaluate(() => document.activeElement?.querySelector('img')?.getAttribute('alt'))).toBe('first.png');
    // A click outside the image closes it, and so does the close button.
    await thumb.click();
    await viewer.waitFor();
    await p.mouse.click(8, vp.height - 8);
    await viewer.waitFor({ state: 'detached' });
    await thumb.click();
    await p.getByTestId('viewer-close').click();
    await viewer.waitFor({ state: 'detached' });

    const token = await guestToken(p);
    for (const u of [...(await urlsIn(p)), ...bobRequests]) expect(u.includes('token=') || u.includes(token)).toBe(false);
    expect(bob.errors).toEqual([]);
  });

  it('keeps the file of a failed image send: Retry sends the image again', async () => {
    const carol = await newUser(browser);
    try {
      // The server refuses Carol's first image once (as a failing store would), then all is well.
      let refused = 0;
      await carol.page.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((msg) => {
          if (typeof msg !== 'string' && refused === 0) {
            const len = msg.readUInt32BE(0);
            const header = JSON.parse(msg.subarray(4, 4 + len).toString('utf8')) as { ref: number };
            refused++;
            ws.send(JSON.stringify({ op: 'reply', ref: header.ref, ok: false, error: { code: 'internal', message: 'the store failed; try again' } }));
            return;
          }
          server.send(msg);
        });
      });
      await carol.page.goto(link);
      await signIn(carol.page, 'Carol');
      await carol.page.getByTestId('chat').waitFor();
      await carol.page.getByTestId('file-input').setInputFiles({ name: 'retry.png', mimeType: 'image/png', buffer: gradientPng(50, 30) });
      const failed = carol.page.locator('[data-testid="message"][data-state="failed"]');
      await failed.waitFor();
      expect(refused).toBe(1);
      await failed.getByRole('button', { name: 'Retry', exact: true }).click();
      await failed.waitFor({ state: 'detached' });
      await imageLoaded(alice.page, alice.page.locator('[data-testid="chat"] img[alt="retry.png"]'), 50);
      await imageLoaded(carol.page, carol.page.locator('[data-testid="chat"] img[alt="retry.png"]'), 50);
      expect(await carol.page.locator('[data-testid="message"][data-state="sent"] img[alt="retry.png"]').count()).toBe(1);
      expect(await alice.page.locator('[data-testid="chat"] img[alt="retry.png"]').count()).toBe(1);
    } finally {
      await carol.context.close();
    }
  });
});

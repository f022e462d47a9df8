import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launch, preflight, shot } from './browser.js';
import { closeWorld, makeWorld, SCREENS, walk, type Lang, type Size, type World } from './screens.js';

// A screenshot of every screen, desktop (1280×800) and phone (390×844), English and Chinese:
// `<screen>-<desktop|phone>-<en|zh>.png` in SHOTS (CI keeps ROOMCAST_SCREENSHOTS), for a
// reviewer to look at. Each screen must show (its test id visible), the page must report no
// errors, and each file must be a real PNG of the viewport's size.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(skip !== null)('screenshots of every screen', () => {
  let world: World;
  let browser: Browser;

  beforeAll(async () => {
    [world, browser] = await Promise.all([makeWorld(), launch()]);
  });

  afterAll(async () => {
    await browser?.close();
    await closeWorld(world);
  });

  for (const lang of ['en', 'zh'] as Lang[]) {
    for (const size of ['desktop', 'phone'] as Size[]) {
      it(`saves every screen, ${size}, ${lang}`, async () => {
        const saved: string[] = [];
        const user = await walk(browser, world, lang, size, async (screen, testid, page) => {
          expect(await page.getByTestId(testid).first().isVisible(), `${screen}: ${testid} visible`).toBe(true);
          const png = readFileSync(await shot(page, `${screen}-${size}-${lang}`));
          expect(png.subarray(0, 8).equals(PNG_SIGNATURE), `${screen}: a PNG`).toBe(true);
          // IHDR: the width and height of the viewport.
          expect([png.readUInt32BE(16), png.readUInt32BE(20)], `${screen}: size`).toEqual([page.viewportSize()!.width, page.viewportSize()!.height]);
          expect(png.length, `${screen}: not blank`).toBeGreaterThan(5000);
          saved.push(screen);
        });
        expect(saved).toEqual([...SCREENS]);
        expect(user.errors).toEqual([]);
        await user.context.close();
      });
    }
  }
});

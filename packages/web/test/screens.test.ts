import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { AXE, axeViolations, launch, preflight, shot, type AxeViolation } from './browser.js';
import { closeWorld, makeWorld, SCREENS, smallTargets, walk, type Lang, type Size, type World } from './screens.js';

// One walk through every screen of the app, desktop (1280×800) and phone (390×844), English and
// Chinese, and at each screen:
// - a screenshot `<screen>-<desktop|phone>-<en|zh>.png` in SHOTS (CI keeps ROOMCAST_SCREENSHOTS)
//   for a reviewer to look at: the screen shows (its test id visible), and the file is a real
//   PNG of the viewport's size;
// - axe-core (WCAG 2.0–2.2 A and AA): no serious or critical violation; a failure lists each
//   one with the selectors of the elements that fail;
// - on a phone, no control under 44×44 px.
// The page must report no errors. The page's CSP (script-src 'self') refuses axe as an injected
// <script>; an init script is not subject to it, and axeViolations() then finds axe there.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function describeAll(found: Record<string, AxeViolation[]>): string {
  return Object.entries(found)
    .map(([screen, vs]) => `${screen}:\n${vs.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n')}`)
    .join('\n');
}

describe.skipIf(skip !== null)('every screen: screenshots and accessibility (axe-core)', () => {
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
      it(`saves every screen with no serious accessibility violation, ${size}, ${lang}`, async () => {
        const saved: string[] = [];
        const found: Record<string, AxeViolation[]> = {};
        const small: Record<string, string[]> = {};
        const user = await walk(
          browser,
          world,
          lang,
          size,
          async (screen, testid, page) => {
            expect(await page.getByTestId(testid).first().isVisible(), `${screen}: ${testid} visible`).toBe(true);
            const png = readFileSync(await shot(page, `${screen}-${size}-${lang}`));
            expect(png.subarray(0, 8).equals(PNG_SIGNATURE), `${screen}: a PNG`).toBe(true);
            // IHDR: the width and height of the viewport.
            expect([png.readUInt32BE(16), png.readUInt32BE(20)], `${screen}: size`).toEqual([page.viewportSize()!.width, page.viewportSize()!.height]);
            expect(png.length, `${screen}: not blank`).toBeGreaterThan(5000);
            // The page's language is right for its text (axe checks that the attribute is valid).
            expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang === 'en' ? 'en' : 'zh-CN');
            const vs = await axeViolations(page);
            if (vs.length) found[screen] = vs;
            if (size === 'phone') {
              const s = await smallTargets(page);
              if (s.length) small[screen] = s;
            }
            saved.push(screen);
          },
          async (context) => {
            await context.addInitScript({ path: AXE });
          },
        );
        await user.context.close();
        expect(saved).toEqual([...SCREENS]);
        expect(found, `axe found serious/critical violations (${size}, ${lang}):\n${describeAll(found)}`).toEqual({});
        expect(small, `controls under 44×44 px on a phone (${lang})`).toEqual({});
        expect(user.errors).toEqual([]);
      });
    }
  }
});

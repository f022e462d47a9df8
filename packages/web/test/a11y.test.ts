import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { AXE, axeViolations, launch, preflight, type AxeViolation } from './browser.js';
import { closeWorld, makeWorld, SCREENS, smallTargets, walk, type Lang, type Size, type World } from './screens.js';

// axe-core (WCAG 2.0–2.2 A and AA) on every screen of the app, in English and Chinese, on a
// desktop and a phone: no serious or critical violation anywhere. A failure lists each one with
// the selectors of the elements that fail.

// The page's CSP (script-src 'self') refuses axe as an injected <script>; an init script is
// not subject to it, and axeViolations() then finds axe already there.

const skip = preflight();
if (skip) console.warn(`web UI tests skipped: ${skip}`);

function describeAll(found: Record<string, AxeViolation[]>): string {
  return Object.entries(found)
    .map(([screen, vs]) => `${screen}:\n${vs.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n')}`)
    .join('\n');
}

describe.skipIf(skip !== null)('accessibility of every screen (axe-core)', () => {
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
      it(`has no serious or critical violations, ${size}, ${lang}`, async () => {
        const found: Record<string, AxeViolation[]> = {};
        const small: Record<string, string[]> = {};
        const checked: string[] = [];
        const user = await walk(browser, world, lang, size, async (screen, _testid, page) => {
          // The page's language is right for its text (axe checks that the attribute is valid).
          expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang === 'en' ? 'en' : 'zh-CN');
          const vs = await axeViolations(page);
          if (vs.length) found[screen] = vs;
          // On a phone, every control a thumb can reach is at least 44×44 px (axe checks 24).
          if (size === 'phone') {
            const s = await smallTargets(page);
            if (s.length) small[screen] = s;
          }
          checked.push(screen);
        }, async (context) => {
          await context.addInitScript({ path: AXE });
        });
        await user.context.close();
        expect(checked).toEqual([...SCREENS]);
        expect(found, `axe found serious/critical violations (${size}, ${lang}):\n${describeAll(found)}`).toEqual({});
        expect(small, `controls under 44×44 px on a phone (${lang})`).toEqual({});
        expect(user.errors).toEqual([]);
      });
    }
  }
});

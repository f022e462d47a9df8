import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mintToken } from '../../server/src/auth/mint.js';
import { startTestServer, type TestServer } from '../../server/test/helpers.js';
import { recoveryCodeFrom, recoveryInHash } from '../src/lib/identity.js';
import { connected, launch, message, newUser, preflight, send, shot, signIn } from './browser.js';

// A guest identity cannot be recovered once forgotten: "Sign out" warns and offers a recovery
// code and link; the login screen takes the code back ("Have a recovery code?"), and the old
// messages are mine again. A token user just signs out.

const skip = preflight();
const SECRET = 'identity-test-secret-that-is-long-enough-42';

const session = (page: Page) => page.evaluate(() => localStorage.getItem('roomcast.session'));

/** Who the saved session is: the name and the guest token's user id (each welcome re-signs the token, so compare these). */
async function savedUser(page: Page): Promise<{ name?: string; sub?: string }> {
  const s = JSON.parse((await session(page)) ?? '{}') as { name?: string; guestToken?: string };
  const payload = s.guestToken ? (JSON.parse(Buffer.from(s.guestToken.split('.')[1]!, 'base64url').toString('utf8')) as { sub?: string }) : {};
  return { name: s.name, sub: payload.sub };
}

describe('recovery codes and links (lib/identity.ts)', () => {
  it('finds the code in what was pasted: the code, or a recovery link', () => {
    expect(recoveryCodeFrom('  eyJabc.def-ghi_j  ')).toBe('eyJabc.def-ghi_j');
    expect(recoveryCodeFrom('https://chat.example/#/recover/eyJ%2Babc')).toBe('eyJ+abc');
    expect(recoveryCodeFrom('two words')).toBe('');
    expect(recoveryCodeFrom('')).toBe('');
    expect(recoveryCodeFrom('https://chat.example/#/recover/%E0%A4%A')).toBe('');
  });

  it('sees a recovery link in the location hash, and nothing else', () => {
    expect(recoveryInHash('#/recover/abc')).toBe('abc');
    expect(recoveryInHash('#/r/lobby')).toBe('');
    expect(recoveryInHash('#/r/lobby#/recover/abc')).toBe('');
  });
});

describe.skipIf(skip !== null)('guest identity in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let code = '';
  let recoveryLink = '';
  let roomId = '';

  beforeAll(async () => {
    server = await startTestServer({ auth: 'both', jwtSecret: SECRET });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('warns a guest before signing out, and offers the recovery code and link', async () => {
    const { page: p, context, errors } = await newUser(browser);
    try {
      await p.goto(`${base}/`);
      await signIn(p, 'Alice');
      await p.getByTestId('new-room').click();
      await p.getByLabel('Room name').fill('Keepsakes');
      await p.getByTestId('create-submit').click();
      const link = await p.getByTestId('share-link').inputValue();
      roomId = decodeURIComponent(link.split('#/r/')[1]!);
      await p.getByTestId('open-created').click();
      await send(p, 'remember me');
      await message(p, 'remember me').and(p.locator('[data-state="sent"]')).waitFor();

      await p.getByTestId('sign-out').click();
      const dialog = p.getByTestId('signout-dialog');
      await dialog.waitFor();
      expect(await dialog.getAttribute('aria-modal')).toBe('true');
      await dialog.getByText('this identity cannot be recovered').waitFor();
      expect(await p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('signout-stay');
      for (let i = 0; i < 8; i++) {
        await p.keyboard.press('Tab');
        expect(await p.evaluate(() => !!document.activeElement?.closest('[data-testid="signout-dialog"]'))).toBe(true);
      }
      code = await p.getByTestId('recovery-code').inputValue();
      recoveryLink = await p.getByTestId('recovery-link').inputValue();
      expect(code.length).toBeGreaterThan(20);
      expect(recoveryLink).toBe(`${base}/#/recover/${encodeURIComponent(code)}`);
      await shot(p, 'identity-01-signout-dialog');
      // "Stay signed in" (or Esc) keeps everything as it was.
      await p.getByTestId('signout-stay').click();
      await dialog.waitFor({ state: 'detached' });
      await p.getByTestId('sign-out').click();
      await dialog.waitFor();
      await p.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await connected(p);
      expect(await session(p)).toContain('guestToken');

      await p.getByTestId('sign-out').click();
      await p.getByTestId('signout-confirm').click();
      await p.getByTestId('login').waitFor();
      expect(await session(p)).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('comes back as the same user with the recovery code, in a fresh browser profile', async () => {
    const { page: p, context, errors } = await newUser(browser);
    try {
      await p.goto(`${base}/`);
      await p.getByTestId('recovery-toggle').click();
      await p.getByLabel('Recovery code').fill(code);
      await shot(p, 'identity-02-recovery-code');
      await p.getByRole('button', { name: 'Enter' }).click();
      await p.getByTestId('me').filter({ hasText: 'Alice' }).waitFor();
      await connected(p);
      await p.locator(`[data-testid="my-room"][data-room="${roomId}"]`).click();
      const mine = message(p, 'remember me');
      await mine.waitFor();
      expect(await mine.getAttribute('data-mine')).toBe('true');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('comes back with the recovery link, which leaves the address bar at once', async () => {
    const { page: p, context } = await newUser(browser);
    try {
      await p.goto(recoveryLink);
      await p.getByTestId('me').filter({ hasText: 'Alice' }).waitFor();
      expect(p.url()).not.toContain('recover');
      await p.locator(`[data-testid="my-room"][data-room="${roomId}"]`).click();
      expect(await message(p, 'remember me').getAttribute('data-mine')).toBe('true');
    } finally {
      await context.close();
    }
  });

  it('asks before a recovery link replaces the identity this browser is signed in as', async () => {
    const { page: p, context, errors } = await newUser(browser);
    try {
      await p.goto(`${base}/`);
      await signIn(p, 'Bea');
      const bea = await savedUser(p);
      expect(bea.sub).toBeTruthy();
      // Loaded afresh with the link (from another page, as from a mail).
      await p.goto('about:blank');
      await p.goto(recoveryLink);
      // Still Bea, with the question on top; staying keeps her.
      await p.getByTestId('me').filter({ hasText: 'Bea' }).waitFor();
      const ask = p.getByTestId('confirm');
      await ask.filter({ hasText: 'Switch to the identity in this link?' }).filter({ hasText: 'signed in as “Bea”' }).waitFor();
      expect(p.url()).not.toContain('recover');
      await p.getByTestId('confirm-cancel').click();
      await ask.waitFor({ state: 'detached' });
      expect(await savedUser(p)).toEqual(bea);
      // Opened in the running tab this time (a hash change): asked again, the code out of the
      // address bar at once; switching signs in as the link's guest.
      await p.evaluate((hash) => {
        location.hash = hash;
      }, new URL(recoveryLink).hash);
      await ask.waitFor();
      expect(p.url()).not.toContain('recover');
      await p.getByTestId('confirm-ok').click();
      await p.getByTestId('me').filter({ hasText: 'Alice' }).waitFor();
      // The same Alice: her room is in the list.
      await p.locator(`[data-testid="my-room"][data-room="${roomId}"]`).waitFor();
      expect(JSON.parse((await session(p)) ?? 'null')).toMatchObject({ name: 'Alice' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says so when a recovery code is not accepted, instead of making a new guest', async () => {
    const { page: p, context } = await newUser(browser);
    try {
      await p.goto(`${base}/`);
      await p.getByTestId('recovery-toggle').click();
      await p.getByLabel('Recovery code').fill(`${code.slice(0, -4)}AAAA`);
      await p.getByRole('button', { name: 'Enter' }).click();
      await p.getByTestId('login-error').filter({ hasText: 'not accepted' }).waitFor();
      expect(await p.getByTestId('me').count()).toBe(0);
      expect(await session(p)).toBeNull();
    } finally {
      await context.close();
    }
  });

  it('signs a token user out at once (a token is kept elsewhere)', async () => {
    const { page: p, context } = await newUser(browser);
    try {
      await p.goto(`${base}/`);
      await p.getByRole('tab', { name: 'Token' }).click();
      await p.getByLabel('Access token').fill(await mintToken({ secret: SECRET, sub: 'dana', name: 'Dana', ttlSec: 3600 }));
      await p.getByRole('button', { name: 'Enter' }).click();
      await p.getByTestId('me').filter({ hasText: 'Dana' }).waitFor();
      await p.getByTestId('sign-out').click();
      await p.getByTestId('login').waitFor();
      expect(await p.getByTestId('signout-dialog').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});

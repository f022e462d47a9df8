import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { mintToken } from '../../server/src/auth/mint.js';
import { serverPerSuite } from '../../server/test/helpers.js';
import { connected, launch, newUser, preflight, shot } from './browser.js';

// A server that requires tokens: the UI asks for one instead of a nickname.

const skip = preflight();
const SECRET = 'web-ui-test-secret-that-is-long-enough-1234';

describe.skipIf(skip !== null)('web UI sign-in with a token', () => {
  const server = serverPerSuite({ auth: 'jwt', jwtSecret: SECRET });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('asks for a token, explains a refused one, and signs in with a good one', async () => {
    const { page, context, errors } = await newUser(browser);
    try {
      await page.goto(`http://127.0.0.1:${server.port}/`);
      const field = page.getByLabel('Access token');
      await field.waitFor();
      expect(await page.getByLabel('Nickname').count()).toBe(0);

      await field.fill('not-a-token');
      await page.getByRole('button', { name: 'Enter' }).click();
      await page.getByTestId('login-error').waitFor();

      const token = await mintToken({ secret: SECRET, sub: 'ops-1', name: 'Dana (ops)', admin: true, ttlSec: 3600 });
      await field.fill(token);
      await page.getByRole('button', { name: 'Enter' }).click();
      await page.getByTestId('me').filter({ hasText: 'Dana (ops)' }).waitFor();
      await connected(page);
      await shot(page, '13-token-signed-in');
      // The token survives a reload; the admin link is there for an admin.
      await page.reload();
      await connected(page);
      expect(await page.getByTestId('me').textContent()).toBe('Dana (ops)');
      await page.getByRole('link', { name: 'Admin' }).click();
      await page.getByTestId('admin').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

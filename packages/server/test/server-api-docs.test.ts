import { existsSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { serverPerSuite } from './helpers.js';
import { ADMIN_KEY } from './server-api-kit.js';

// The server API's OpenAPI document validates as OpenAPI 3.1 and describes every operation
// fully (tags, summary, security, the error shape); /api/docs renders it in a real browser
// under its own Content-Security-Policy, with no request leaving the server.

const CHROMIUM = process.env.ROOMCAST_CHROMIUM ?? '/usr/bin/chromium';
const server = serverPerSuite({ apiKey: ADMIN_KEY, httpRate: 0 });

type Operation = { tags?: string[]; summary?: string; security?: unknown[]; responses?: Record<string, { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }> };

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const res = await fetch(`${server.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('gives every operation tags, a summary, security and the error shape, and lists only the API', async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: object } };
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      expect(path.startsWith('/api/'), path).toBe(true);
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.tags?.length, where).toBeGreaterThan(0);
        expect(op.summary, where).toBeTruthy();
        expect(op.security?.length, where).toBeGreaterThan(0);
        const unauthorized = op.responses?.['401']?.content?.['application/json']?.schema?.properties;
        expect(unauthorized && Object.keys(unauthorized), where).toEqual(['error']);
      }
    }
    for (const hidden of ['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/api/docs']) expect(doc.paths[hidden], hidden).toBeUndefined();
  });
});

describe.skipIf(!existsSync(CHROMIUM))('/api/docs in Chromium', () => {
  it('renders the operations under its CSP, fetching nothing from elsewhere', async () => {
    const page = await fetch(`${server.url}/api/docs`);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const tab = await browser.newPage();
      const problems: string[] = [];
      const elsewhere: string[] = [];
      tab.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      tab.on('pageerror', (e) => problems.push(e.message));
      tab.on('request', (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
      });
      await tab.goto(`${server.url}/api/docs`);
      // Swagger UI has fetched the document and drawn an operation of each tag.
      await tab.locator('.opblock-tag', { hasText: 'messages' }).first().waitFor({ timeout: 15_000 });
      await tab.locator('.opblock-summary-path', { hasText: '/api/rooms/{room}/messages' }).first().waitFor({ timeout: 15_000 });
      expect(await tab.locator('.opblock').count()).toBeGreaterThanOrEqual(27);
      expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
      expect(problems).toEqual([]);
      expect(elsewhere).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

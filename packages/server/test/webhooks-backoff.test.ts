import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../src/webhooks/backoff.js';
import { webhookEndpointsFrom } from '../src/webhooks/config.js';
import { previewOf } from '../src/webhooks/unreached.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { tempDir } from './helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The backoff of failed webhook events, and the endpoints made from the configuration.

describe('webhook backoff', () => {
  it('doubles from the base up to the cap, with full jitter', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4].map((n) => backoffDelay(DEFAULT_BACKOFF, n, top))).toEqual([999, 1999, 3999, 7999]);
    expect(backoffDelay(DEFAULT_BACKOFF, 40, top)).toBe(DEFAULT_BACKOFF.capMs - 1);
    expect(backoffDelay(DEFAULT_BACKOFF, 5, () => 0)).toBe(0);
    expect(backoffDelay({ baseMs: 100, capMs: 1000 }, 3, () => 0.5)).toBe(200);
  });
});

describe('webhook endpoints from the configuration', () => {
  const base = { ...DEFAULT_CONFIG, webhookSecret: 'a-secret-of-16-chars' };
  it('makes one endpoint per URL, and per file entry with its own secret and filter', () => {
    const file = join(tempDir(), 'hooks.json');
    writeFileSync(file, JSON.stringify([{ url: 'https://push.example/h', secret: 'another-secret-0123', events: ['message.unreached'] }]));
    const eps = webhookEndpointsFrom({ ...base, webhookUrl: 'http://a.example/h, http://b.example/h', webhooksFile: file });
    expect(eps.map((e) => [e.name, e.types])).toEqual([['http://a.example/h', undefined], ['http://b.example/h', undefined], ['https://push.example/h', ['message.unreached']]]);
  });
  it('refuses mistakes with a sentence naming the fix', () => {
    expect(() => webhookEndpointsFrom({ ...base, webhookSecret: '', webhookUrl: 'http://a.example/h' })).toThrow(/needs --webhook-secret/);
    expect(() => webhookEndpointsFrom({ ...base, webhookUrl: 'ftp://a.example/h' })).toThrow(/must be an http\(s\) URL/);
    expect(() => webhookEndpointsFrom({ ...base, webhookSecret: 'short', webhookUrl: 'http://a.example/h' })).toThrow(/at least 16/);
    const file = join(tempDir(), 'bad.json');
    writeFileSync(file, JSON.stringify([{ url: 'https://x.example/h', events: ['message.sent'] }]));
    expect(() => webhookEndpointsFrom({ ...base, webhooksFile: file })).toThrow(/unknown event types message\.sent/);
    expect(webhookEndpointsFrom(DEFAULT_CONFIG)).toEqual([]);
  });
  it('refuses credentials in a URL, and names endpoints without their query (a token there stays out of /metrics, the status and the logs)', () => {
    let message = '';
    try {
      webhookEndpointsFrom({ ...base, webhookUrl: 'https://bob:hunter2@push.example/h' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/must not carry a user name or password/);
    expect(message).not.toContain('hunter2');
    const [a, b] = webhookEndpointsFrom({ ...base, webhookUrl: 'https://push.example/h?token=s3cret,https://push.example/h?token=other' });
    expect(a?.name).toMatch(/^https:\/\/push\.example\/h\?#[0-9a-f]{8}$/);
    expect(a?.name).not.toContain('s3cret');
    expect(b?.name).not.toBe(a?.name);
  });
});

describe('message.unreached preview', () => {
  it('counts code points, so an emoji at the cut is kept whole', () => {
    const text = `${'a'.repeat(138)}😀😀😀`;
    const preview = previewOf(text);
    expect(Array.from(preview)).toHaveLength(140);
    expect(preview.endsWith('😀…')).toBe(true);
    expect(previewOf('short 😀')).toBe('short 😀');
  });
});

import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../src/webhooks/backoff.js';
import { webhookEndpointsFrom } from '../src/webhooks/config.js';
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
    expect(() => webhookEndpointsFrom({ ...base, webhookUrl: 'ftp://a.example/h' })).toThrow(/must be http\(s\) URLs/);
    expect(() => webhookEndpointsFrom({ ...base, webhookSecret: 'short', webhookUrl: 'http://a.example/h' })).toThrow(/at least 16/);
    const file = join(tempDir(), 'bad.json');
    writeFileSync(file, JSON.stringify([{ url: 'https://x.example/h', events: ['message.sent'] }]));
    expect(() => webhookEndpointsFrom({ ...base, webhooksFile: file })).toThrow(/unknown event types message\.sent/);
    expect(webhookEndpointsFrom(DEFAULT_CONFIG)).toEqual([]);
  });
});

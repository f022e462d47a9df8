import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectiveMaxConnections, FALLBACK_FD_LIMIT, fileDescriptorLimit, webSocketLimit } from '../../src/gateway/fd-limit.js';
import { parseRequestTarget } from '../../src/gateway/request-target.js';

describe('parseRequestTarget', () => {
  it.each([
    ['/ws', '/ws', ''],
    ['/ws?name=Alice&guest=t.k-1', '/ws', 'name=Alice&guest=t.k-1'],
    ['/ws?name=%F0%9F%99%82', '/ws', 'name=%F0%9F%99%82'],
    // Browsers send these unescaped in a query.
    ['/ws?name=[bob]|{x}^`', '/ws', 'name=[bob]|{x}^`'],
    ['http://chat.example.com/ws?name=A', '/ws', 'name=A'],
    ['https://[::1]:8443/ws', '/ws', ''],
    ['HTTP://a:65535/ws', '/ws', ''],
    ['http://a', '/', ''],
    ['//host/ws', '//host/ws', ''],
  ])('reads %s', (raw, path, query) => {
    const t = parseRequestTarget(raw);
    expect(t).toMatchObject({ ok: true, path });
    if (t.ok) expect(t.query.toString()).toBe(new URLSearchParams(query).toString());
  });

  it.each([
    'http://[', '//[/ws', 'http://a:b/ws', 'http://%zz/ws', 'http://a:99999/ws', 'http://a:123456/ws', '', '*', 'example.com:443',
    '/ws#frag', '/w s', '/ws\\x', '/ws?%zz', '/ws?a=%4', '/wß', 'ws', 'ftp://a/ws', 'http://user@a/ws', 'http:///ws', 'http://[::1/ws',
    'http://[zz]/ws', 'http://%00/ws', '/ws?\u0000',
  ])('refuses %j with a reason', (raw) => {
    const t = parseRequestTarget(raw);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.reason.length).toBeGreaterThan(10);
  });

  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.webUrl().map((u) => u.replace(/^https?:\/\/[^/]*/, ''))), (raw) => {
        parseRequestTarget(raw);
      }),
      { numRuns: 3000, seed: 20240611 },
    );
  });
});

describe('file-descriptor limit', () => {
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units
Max processes             63711                63711                processes
Max open files            ${soft}                 524288               files
Max locked memory         8388608              8388608              bytes
`;

  it('reads the soft limit of Max open files', () => {
    expect(fileDescriptorLimit(limits('1024'))).toBe(1024);
    expect(fileDescriptorLimit(limits('unlimited'))).toBe(FALLBACK_FD_LIMIT);
    expect(fileDescriptorLimit('garbage')).toBe(FALLBACK_FD_LIMIT);
    // This process's own, on Linux.
    expect(fileDescriptorLimit()).toBeGreaterThan(0);
  });

  it('derives the caps: limit minus 256, WebSockets 32 short of that', () => {
    expect(effectiveMaxConnections(0, 1024)).toBe(768);
    expect(effectiveMaxConnections(500, 1024)).toBe(500);
    expect(effectiveMaxConnections(0, 100)).toBe(64);
    expect(webSocketLimit(768)).toBe(736);
    expect(webSocketLimit(40)).toBe(20);
    expect(webSocketLimit(1)).toBe(1);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { browserNetwork, pickNetwork, wxNetwork, type WxNetworkLike } from '../../src/network.js';
import { Pacer } from '../../src/pacer.js';
import { connected, flush, setup } from './setup.js';

// Network and foreground hints (network.ts): a fake `window`/`document` (Node's EventTarget) and
// a fake `wx`, on the scripted network, under fake timers. Nothing here waits for real time.

/** A stand-in for `window` and `document`: EventTargets, with a settable visibilityState. */
function fakeBrowser() {
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const fire = (target: EventTarget, type: string) => target.dispatchEvent(new Event(type));
  return {
    window,
    document,
    offline: () => fire(window, 'offline'),
    online: () => fire(window, 'online'),
    show: () => {
      document.visibilityState = 'visible';
      fire(document, 'visibilitychange');
    },
    hide: () => {
      document.visibilityState = 'hidden';
      fire(document, 'visibilitychange');
    },
  };
}

/** A stand-in for the network part of `wx`: listeners kept, `status()` plays the platform. */
function fakeWx() {
  const listeners = new Set<(res: { isConnected: boolean; networkType?: string }) => void>();
  const shows = new Set<() => void>();
  const wx: WxNetworkLike & { status(isConnected: boolean): void; show(): void; listening(): number } = {
    onNetworkStatusChange: (l) => void listeners.add(l),
    offNetworkStatusChange: (l) => void listeners.delete(l),
    onAppShow: (l) => void shows.add(l),
    offAppShow: (l) => void shows.delete(l),
    status: (isConnected) => {
      for (const l of [...listeners]) l({ isConnected, networkType: isConnected ? 'wifi' : 'none' });
    },
    show: () => {
      for (const l of [...shows]) l();
    },
    listening: () => listeners.size + shows.size,
  };
  return wx;
}

describe('network hints', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is off where there is no window, document or wx (Node)', () => {
    expect(browserNetwork({})).toBeNull();
    expect(pickNetwork(undefined)).toBeNull();
    expect(pickNetwork(null)).toBeNull();
  });

  it('drops the connection the moment the device goes offline, and redials the moment it is back', async () => {
    const b = fakeBrowser();
    const s = setup({ network: browserNetwork(b), minReconnectDelay: 5000, maxReconnectDelay: 60_000 });
    const seen: Array<{ state: string; reason?: string }> = [];
    s.chat.on('state', (e) => seen.push({ state: e.state, ...(e.reason ? { reason: e.reason } : {}) }));
    const first = await connected(s);
    b.offline();
    // No heartbeat timeout: the state says so at once, and the dead socket is dropped.
    expect(seen.at(-1)).toEqual({ state: 'connecting', reason: 'the device went offline' });
    expect(first.terminated).toBe(true);
    const n = s.net.sockets.length;
    b.online();
    // Not after the backoff (up to 5 s here): a new attempt right away.
    expect(s.net.sockets.length).toBe(n + 1);
    s.net.last.welcome();
    await flush();
    expect(s.chat.state).toBe('connected');
    // A second `online` (or a visible page) with a live connection only checks it with a ping.
    b.online();
    expect(s.net.sockets.length).toBe(n + 1);
    expect(s.net.last.frames().map((f) => f.op)).toContain('ping');
  });

  it('redials at once when the page becomes visible while waiting out a backoff', async () => {
    const b = fakeBrowser();
    const s = setup({ network: browserNetwork(b), minReconnectDelay: 5000, maxReconnectDelay: 60_000 });
    await connected(s);
    for (let i = 0; i < 4; i++) {
      s.net.last.serverClose(1006);
      vi.advanceTimersByTime(60_000);
    }
    s.net.last.serverClose(1006); // now the wait is up to 60 s
    const n = s.net.sockets.length;
    b.hide();
    vi.advanceTimersByTime(10);
    expect(s.net.sockets.length).toBe(n);
    b.show();
    expect(s.net.sockets.length).toBe(n + 1);
    // A connection attempt already under way (begun online) is left alone by another hint.
    b.show();
    expect(s.net.sockets.length).toBe(n + 1);
  });

  it('replaces an attempt begun offline once the network is back', async () => {
    const b = fakeBrowser();
    const s = setup({ network: browserNetwork(b), minReconnectDelay: 10 });
    await connected(s);
    b.offline();
    vi.advanceTimersByTime(10); // the backoff dials, offline: this attempt hangs
    const stuck = s.net.last;
    const n = s.net.sockets.length;
    b.online();
    expect(stuck.terminated).toBe(true);
    expect(s.net.sockets.length).toBe(n + 1);
  });

  it('stops listening on close()', async () => {
    const wx = fakeWx();
    const s = setup({ network: wxNetwork(wx) });
    await connected(s);
    expect(wx.listening()).toBe(2);
    s.chat.close();
    expect(wx.listening()).toBe(0);
    const n = s.net.sockets.length;
    wx.status(true);
    expect(s.net.sockets.length).toBe(n);
  });

  it('follows wx.onNetworkStatusChange and wx.onAppShow in a mini program', async () => {
    const wx = fakeWx();
    const s = setup({ network: wxNetwork(wx), minReconnectDelay: 5000 });
    const first = await connected(s);
    wx.status(false);
    expect(s.chat.state).toBe('connecting');
    expect(first.terminated).toBe(true);
    const n = s.net.sockets.length;
    wx.status(true);
    expect(s.net.sockets.length).toBe(n + 1);
    s.net.last.serverClose(1006);
    wx.show();
    expect(s.net.sockets.length).toBe(n + 2);
  });
});

describe('resume burst in the pacer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes the rate budget plus the granted burst at once, in order, then paces the rest', () => {
    const written: string[] = [];
    const p = new Pacer(20, (f) => written.push(String(f)), 200);
    for (let i = 0; i < 250; i++) p.push(`f${i}`);
    expect(written.length).toBe(220);
    expect(p.queued).toBe(30);
    vi.advanceTimersByTime(1500);
    expect(written).toEqual(Array.from({ length: 250 }, (_, i) => `f${i}`));
    expect(p.burstLeft).toBe(0);
  });

  it('does not use the burst once its time is over', () => {
    const written: string[] = [];
    const p = new Pacer(20, (f) => written.push(String(f)), 200);
    vi.advanceTimersByTime(6000);
    for (let i = 0; i < 100; i++) p.push(`f${i}`);
    expect(written.length).toBe(20);
  });

  it('uses the burst of the welcome on a reconnect: the queued sends go out in one go', async () => {
    const s = setup();
    await connected(s, { limits: { maxText: 4000, maxBinary: 1000, ratePerSec: 20 } });
    s.net.last.serverClose(1006);
    for (let i = 0; i < 140; i++) void s.chat.dm('u_other', `m${i}`).catch(() => {});
    vi.advanceTimersByTime(1000);
    s.net.last.welcome({ limits: { maxText: 4000, maxBinary: 1000, ratePerSec: 20, resumeBurst: 200 } });
    await flush();
    expect(s.net.last.frames().filter((f) => f.op === 'dm').map((f) => f.text)).toEqual(Array.from({ length: 140 }, (_, i) => `m${i}`));
    s.chat.close();
  });

  it('paces as before when the server announces no burst', async () => {
    const s = setup();
    await connected(s, { limits: { maxText: 4000, maxBinary: 1000, ratePerSec: 20 } });
    s.net.last.serverClose(1006);
    for (let i = 0; i < 140; i++) void s.chat.dm('u_other', `m${i}`).catch(() => {});
    vi.advanceTimersByTime(1000);
    s.net.last.welcome({ limits: { maxText: 4000, maxBinary: 1000, ratePerSec: 20 } });
    await flush();
    expect(s.net.last.frames().filter((f) => f.op === 'dm').length).toBe(20);
    s.chat.close();
  });
});

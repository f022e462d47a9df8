import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../src/heartbeat.js';

describe('Heartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pings once after an idle interval and declares the connection dead after two', () => {
    const ping = vi.fn();
    const dead = vi.fn();
    new Heartbeat(1000, ping, dead);
    vi.advanceTimersByTime(999);
    expect(ping).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(dead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(dead).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(dead).toHaveBeenCalledTimes(1);
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('never pings or gives up while frames keep arriving', () => {
    const ping = vi.fn();
    const dead = vi.fn();
    const hb = new Heartbeat(1000, ping, dead);
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(600);
      hb.touch();
    }
    expect(ping).not.toHaveBeenCalled();
    expect(dead).not.toHaveBeenCalled();
  });

  it('measures silence from the last frame: an answer to the ping keeps it alive', () => {
    const ping = vi.fn();
    const dead = vi.fn();
    const hb = new Heartbeat(1000, ping, dead);
    vi.advanceTimersByTime(1000);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(300);
    hb.touch(); // the pong
    vi.advanceTimersByTime(999);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(ping).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(999);
    expect(dead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(dead).toHaveBeenCalledTimes(1);
  });

  it('does nothing once stopped', () => {
    const ping = vi.fn();
    const dead = vi.fn();
    new Heartbeat(1000, ping, dead).stop();
    vi.advanceTimersByTime(10_000);
    expect(ping).not.toHaveBeenCalled();
    expect(dead).not.toHaveBeenCalled();
  });
});

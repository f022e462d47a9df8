import type { RedisLinkEvents } from '../src/broker/redis-types.js';
import { Signal, waitUntil } from '../../../test/wait.js';

/** What a link told its owner, and a way to wait for it. */
export class Recorder implements RedisLinkEvents {
  readonly got: { channel: string; text: string }[] = [];
  readonly downs: string[] = [];
  ups = 0;
  readonly changed = new Signal();
  onMessage = (channel: string, payload: Buffer) => {
    this.got.push({ channel, text: payload.toString() });
    this.changed.notify();
  };
  onDown = (reason: string) => {
    this.downs.push(reason);
    this.changed.notify();
  };
  onUp = () => {
    this.ups++;
    this.changed.notify();
  };
  onError = () => {};
  until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<true> {
    return waitUntil(() => check() || undefined, { what, seen: () => JSON.stringify({ got: this.got.length, downs: this.downs, ups: this.ups }), timeoutMs, on: this.changed.on }) as Promise<true>;
  }
}

import type { Connection } from '../../src/core/session.js';

/** A decoded frame a fake connection received: JSON, or a binary frame's header with `payload`. */
export type KitFrame = Record<string, any> & { op: string; payload?: Uint8Array };

/**
 * A Connection without a socket: it records what the core writes to it. `bufferedAmount` and
 * `taken` are the test's to set, to play a reader that stopped (or a network that took bytes).
 */
export class FakeConnection implements Connection {
  readonly frames: KitFrame[] = [];
  bufferedAmount = 0;
  taken = 0;
  isOpen = true;
  closedWith: { code: number; reason: string } | null = null;
  private readonly listeners: Array<() => void> = [];
  private drainWaiters: Array<() => void> = [];

  constructor(readonly id: string) {}

  send(data: Uint8Array, binary: boolean): void {
    if (!this.isOpen) return;
    this.frames.push(binary ? decodeBinary(data) : (JSON.parse(new TextDecoder().decode(data)) as KitFrame));
    for (const l of this.listeners.splice(0)) l();
  }

  close(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.closedWith = { code, reason };
    this.drain();
    for (const l of this.listeners.splice(0)) l();
  }

  drained(): Promise<void> {
    if (this.bufferedAmount === 0 || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The peer read everything: the buffer is empty and whoever waited for it goes on. */
  drain(): void {
    this.taken += this.bufferedAmount;
    this.bufferedAmount = 0;
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Resolves on the next frame (or close). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }
}

function decodeBinary(data: Uint8Array): KitFrame {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = view.getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + n))) as KitFrame;
  return { ...header, payload: data.subarray(4 + n) };
}

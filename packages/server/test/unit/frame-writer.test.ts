import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CoalescingWriter, encodeFrame, FrameCache, writeQueuedTo, type FrameQueue } from '../../src/gateway/frame-writer.js';

/** Parses one unmasked server frame: FIN+opcode, payload length and payload. */
function parse(frame: Buffer): { fin: boolean; opcode: number; length: number; payload: Buffer } {
  const len7 = (frame[1] as number) & 0x7f;
  let length = len7;
  let head = 2;
  if (len7 === 126) {
    length = frame.readUInt16BE(2);
    head = 4;
  } else if (len7 === 127) {
    length = Number(frame.readBigUInt64BE(2));
    head = 10;
  }
  expect((frame[1] as number) & 0x80, 'server frames are never masked').toBe(0);
  return { fin: ((frame[0] as number) & 0x80) !== 0, opcode: (frame[0] as number) & 0x0f, length, payload: frame.subarray(head) };
}

/** A FrameQueue over a plain stream, as WsConnection is over its socket. */
class StreamQueue implements FrameQueue {
  queued: Buffer | null = null;
  queuedMore: Buffer[] | null = null;
  queuedBytes = 0;
  constructor(readonly stream: Writable) {}
  writeQueued(): void {
    writeQueuedTo(this, this.stream, true);
  }
}

/** A writable that records each call to the underlying sink: one entry per write or writev. */
function sink(): { stream: Writable; q: StreamQueue; calls: Buffer[][] } {
  const calls: Buffer[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => c.chunk as Buffer));
      cb();
    },
  });
  return { stream, q: new StreamQueue(stream), calls };
}

describe('encodeFrame', () => {
  it.each([0, 1, 125, 126, 65535, 65536, 200_000])('frames a %i-byte payload with the right length field', (n) => {
    const payload = Buffer.alloc(n, 0x61);
    const f = parse(encodeFrame(payload, false));
    expect(f).toMatchObject({ fin: true, opcode: 1, length: n });
    expect(f.payload.equals(payload)).toBe(true);
  });

  it('marks binary frames with opcode 2', () => {
    expect(parse(encodeFrame(new Uint8Array([1, 2, 3]), true)).opcode).toBe(2);
  });
});

describe('FrameCache', () => {
  it('frames a payload once while it goes to recipient after recipient', () => {
    const cache = new FrameCache();
    const a = new TextEncoder().encode('{"op":"msg"}');
    const first = cache.frame(a, false);
    expect(cache.frame(a, false)).toBe(first);
    expect(cache.frame(a, true)).not.toBe(first);
    const b = new TextEncoder().encode('{"op":"msg"}');
    expect(cache.frame(b, false)).not.toBe(first);
  });
});

describe('CoalescingWriter', () => {
  it('sends what one job wrote to a socket in one writev, right after the job', async () => {
    const writer = new CoalescingWriter();
    const a = sink();
    const b = sink();
    const frames = ['1', '2', '3'].map((t) => encodeFrame(Buffer.from(t), false));
    for (const f of frames) writer.write(a.q, f);
    writer.write(b.q, frames[0] as Buffer);
    expect(a.calls).toEqual([]); // held until the job ends
    expect(a.q.queuedBytes).toBe(9);
    await new Promise<void>((r) => process.nextTick(r));
    expect(a.calls).toEqual([frames]);
    expect(b.calls).toEqual([[frames[0]]]);
    expect(a.q.queuedBytes).toBe(0);
    expect(a.stream.writableCorked).toBe(0);
    expect(b.stream.writableCorked).toBe(0);
  });

  it('starts over in the next job: nothing is held across turns', async () => {
    const writer = new CoalescingWriter();
    const a = sink();
    writer.write(a.q, encodeFrame(Buffer.from('x'), false));
    await new Promise<void>((r) => setImmediate(r));
    writer.write(a.q, encodeFrame(Buffer.from('y'), false));
    await new Promise<void>((r) => setImmediate(r));
    expect(a.calls.map((c) => c.length)).toEqual([1, 1]);
  });

  it('writes a queue emptied early (a closing connection) only once', async () => {
    const writer = new CoalescingWriter();
    const a = sink();
    writer.write(a.q, encodeFrame(Buffer.from('x'), false));
    writer.write(a.q, encodeFrame(Buffer.from('y'), false));
    a.q.writeQueued(); // what WsConnection.close does before its close frame
    a.stream.write(Buffer.from('close'));
    await new Promise<void>((r) => process.nextTick(r));
    expect(a.calls.flat().map((c) => c.toString('latin1').slice(2))).toEqual(['x', 'y', 'ose']);
  });

  it('keeps order when a flush queues more (a write that fails closes and notifies)', async () => {
    const writer = new CoalescingWriter();
    const a = sink();
    const b = sink();
    const reentrant: FrameQueue = {
      queued: null,
      queuedMore: null,
      queuedBytes: 0,
      writeQueued() {
        this.queued = null;
        this.queuedBytes = 0;
        writer.write(b.q, encodeFrame(Buffer.from('late'), false));
      },
    };
    writer.write(a.q, encodeFrame(Buffer.from('x'), false));
    writer.write(reentrant, encodeFrame(Buffer.from('y'), false));
    await new Promise<void>((r) => process.nextTick(r));
    expect(a.calls.length).toBe(1);
    expect(b.calls.flat().map((c) => c.toString('latin1').slice(2))).toEqual(['late']);
  });
});

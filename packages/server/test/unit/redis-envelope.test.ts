import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../src/broker/redis-envelope.js';

// The broker's wire envelope: what one node publishes, another decodes exactly; anything else
// on a channel (another version, another program, garbage) decodes to null, never throws.

describe('Redis envelope', () => {
  it('round-trips every field with the cluster id and origin', () => {
    const data = Buffer.from([0, 1, 2, 255]);
    const buf = encodeEnvelope('cluster-a', 'n1~abc123', { room: 'x', data, binary: true, seq: 42, exceptConn: 'c1', exceptUser: 'u1', droppable: true });
    expect(decodeEnvelope('r', buf)).toEqual({
      cluster: 'cluster-a',
      origin: 'n1~abc123',
      message: { room: 'r', data: Buffer.from([0, 1, 2, 255]), binary: true, seq: 42, exceptConn: 'c1', exceptUser: 'u1', droppable: true },
    });
    const control = encodeEnvelope('k', 'o', { room: 'x', data: new Uint8Array(0), binary: false, control: { kind: 'drop-user', user: 'u', room: 'x' } });
    expect(decodeEnvelope('~u:u', control)?.message.control).toEqual({ kind: 'drop-user', user: 'u', room: 'x' });
  });

  it('returns null for garbage and for envelopes without a cluster id, never throws', () => {
    const header = (h: string) => {
      const head = Buffer.from(h);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(head.length);
      return Buffer.concat([len, head, Buffer.from('frame')]);
    };
    const bad = [
      Buffer.alloc(0),
      Buffer.from('abc'),
      Buffer.from('hello world, not an envelope'),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]),
      header('{not json'),
      header('null'),
      header('[1,2]'),
      header('"text"'),
      header('{"o":"n1","s":3}'), // an envelope of a version before cluster ids
      header('{"k":1,"o":"n1"}'),
      header('{"k":"a","o":"n1","s":"3"}'),
      header('{"k":"a","o":"n1","c":null}'),
      header('{"k":"a","o":"n1","c":{"no":"kind"}}'),
    ];
    for (const buf of bad) expect(decodeEnvelope('r', buf)).toBeNull();
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(Array.from({ length: (i % 40) + 1 }, (_, j) => (i * 31 + j * 17) % 256));
      expect(() => decodeEnvelope('r', buf)).not.toThrow();
    }
  });
});

import type { BrokerMessage, ControlMessage } from './broker.js';

// What a broker message looks like on a Redis channel: a 4-byte header length, a JSON header,
// then the frame bytes as they are (a binary payload is not re-encoded). The header names the
// cluster and the sending instance, so a receiver drops what another cluster published on a
// shared Redis and what it sent itself.

interface Header {
  /** Cluster id. */
  k: string;
  /** Origin instance. */
  o: string;
  s?: number;
  xc?: string;
  xu?: string;
  b?: 1;
  /** A hint (typing) that a busy member may miss. */
  d?: 1;
  c?: ControlMessage;
}

export interface Decoded {
  cluster: string;
  origin: string;
  message: BrokerMessage;
}

export function encodeEnvelope(cluster: string, origin: string, m: BrokerMessage): Buffer {
  const h: Header = { k: cluster, o: origin };
  if (m.seq !== undefined) h.s = m.seq;
  if (m.exceptConn !== undefined) h.xc = m.exceptConn;
  if (m.exceptUser !== undefined) h.xu = m.exceptUser;
  if (m.binary) h.b = 1;
  if (m.droppable) h.d = 1;
  if (m.control) h.c = m.control;
  const head = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head, m.data]);
}

const isStr = (v: unknown): v is string => typeof v === 'string';

/** The message for `room`, or null for anything that is not a well-formed envelope (never throws). */
export function decodeEnvelope(room: string, buf: Buffer): Decoded | null {
  if (buf.length < 4) return null;
  const n = buf.readUInt32BE(0);
  if (4 + n > buf.length) return null;
  let h: Partial<Header>;
  try {
    const parsed: unknown = JSON.parse(buf.subarray(4, 4 + n).toString());
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    h = parsed as Partial<Header>;
  } catch {
    return null;
  }
  if (!isStr(h.k) || !isStr(h.o)) return null;
  if (h.s !== undefined && !Number.isSafeInteger(h.s)) return null;
  if ((h.xc !== undefined && !isStr(h.xc)) || (h.xu !== undefined && !isStr(h.xu))) return null;
  if (h.c !== undefined && (typeof h.c !== 'object' || h.c === null || !isStr((h.c as { kind?: unknown }).kind))) return null;
  const message: BrokerMessage = { room, data: buf.subarray(4 + n), binary: h.b === 1 };
  if (h.s !== undefined) message.seq = h.s;
  if (h.xc !== undefined) message.exceptConn = h.xc;
  if (h.xu !== undefined) message.exceptUser = h.xu;
  if (h.d === 1) message.droppable = true;
  if (h.c !== undefined) message.control = h.c;
  return { cluster: h.k, origin: h.o, message };
}


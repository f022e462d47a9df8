import type { MsgEvent, WelcomeEvent } from '@roomcast/protocol';
import type { Socket, SocketFactory, SocketHandlers } from '../src/socket.js';

// A scripted server for socket-free unit tests: every connection the client opens is recorded,
// and the test plays the server's side (welcome, replies, closes) by hand, under fake timers.

export class FakeSocket implements Socket {
  readonly sent: Array<string | Uint8Array> = [];
  closed: { code: number; reason: string } | null = null;
  terminated = false;

  constructor(
    readonly url: string,
    readonly protocols: string[],
    private readonly h: SocketHandlers,
  ) {}

  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  terminate(): void {
    this.terminated = true;
  }

  // ---- the server's side ----

  open(): void {
    this.h.onOpen();
  }

  /** Opens and sends a welcome (overridable fields). */
  welcome(fields: Partial<WelcomeEvent> = {}): void {
    this.open();
    this.push({
      op: 'welcome',
      session: 's_1',
      user: { id: 'u_me', name: 'Me' },
      heartbeat: 25_000,
      rooms: [],
      limits: { maxText: 4000, maxBinary: 1_000_000, ratePerSec: 0 },
      ...fields,
    });
  }

  push(frame: object): void {
    this.h.onMessage(JSON.stringify(frame));
  }

  msg(room: string, seq: number, fields: Partial<MsgEvent> = {}): void {
    this.push({ op: 'msg', room, seq, id: `m${seq}`, from: { id: 'u_other', name: 'Other' }, text: `t${seq}`, ts: 1000 + seq, ...fields });
  }

  /** An `edit` of message `target` by Other, at `seq`. */
  edit(room: string, seq: number, target: number, text: string, fields: object = {}): void {
    this.push({ op: 'edit', room, seq, target, text, editedAt: 5000 + seq, from: { id: 'u_other', name: 'Other' }, ...fields });
  }

  /** An `unsend` of message `target` by Other, at `seq`. */
  unsend(room: string, seq: number, target: number, fields: object = {}): void {
    this.push({ op: 'unsend', room, seq, target, by: { id: 'u_other', name: 'Other' }, ...fields });
  }

  /** A `reaction` to message `target` (by Other unless `user` is given), at `seq`. */
  reaction(room: string, seq: number, target: number, emoji: string, count: number, fields: object = {}): void {
    this.push({ op: 'reaction', room, seq, target, emoji, user: { id: 'u_other', name: 'Other' }, on: true, count, ...fields });
  }

  /** Answers the request with this ref. */
  reply(ref: number, fields: object = {}): void {
    this.push({ op: 'reply', ref, ok: true, ...fields });
  }

  replyError(ref: number, code: string, message = code): void {
    this.push({ op: 'reply', ref, ok: false, error: { code, message } });
  }

  serverClose(code: number, reason = ''): void {
    this.h.onClose(code, reason);
  }

  error(message = 'ECONNREFUSED'): void {
    this.h.onError(message);
  }

  /**
   * Text frames sent so far, parsed. Without `all`, the `filekey` request the client makes
   * after every welcome (file-keys.ts) is left out: tests about other things need not count it.
   */
  frames(all = false): Array<Record<string, unknown> & { op: string; ref?: number }> {
    const parsed = this.sent.filter((d): d is string => typeof d === 'string').map((d) => JSON.parse(d) as Record<string, unknown> & { op: string });
    return all ? parsed : parsed.filter((f) => f.op !== 'filekey');
  }

  /** The last text frame with this op. */
  last(op: string): Record<string, unknown> & { op: string; ref?: number } {
    const f = this.frames(true).filter((x) => x.op === op).at(-1);
    if (!f) throw new Error(`no "${op}" frame sent; sent: ${this.frames().map((x) => x.op).join(', ')}`);
    return f;
  }

  /** Answers the last join for `room` as a successful join at `lastSeq`. */
  acceptJoin(room: string, lastSeq: number, extra: object = {}): void {
    const join = this.frames().filter((f) => f.op === 'join' && f.room === room).at(-1);
    if (!join) throw new Error(`no join for ${room}`);
    this.reply(join.ref as number, {
      room: { id: room, title: null, capacity: null, visibility: 'public', persist: true, direct: room.startsWith('dm-'), owner: null, createdAt: 0 },
      online: 1,
      members: [{ id: 'u_me', name: 'Me' }],
      lastSeq,
      ...extra,
    });
  }
}

/** Records every connection the client opens. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  readonly factory: SocketFactory = (url, protocols, handlers) => {
    const s = new FakeSocket(url, protocols, handlers);
    this.sockets.push(s);
    return s;
  };

  get last(): FakeSocket {
    const s = this.sockets.at(-1);
    if (!s) throw new Error('the client opened no socket');
    return s;
  }
}

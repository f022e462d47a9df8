import { CloseCode } from '@roomcast/protocol';
import type { Logger } from './logger.js';
import type { Session } from './session.js';
import type { ChatStats } from './stats.js';

// Every frame the core writes goes through here, so one rule decides who is a slow consumer:
// what the socket has not taken, replies and errors included.
//
// - Room messages that the store can give again (a persisted room's `msg` events) are never
//   queued past half the send buffer: a member that far behind stops getting them live and
//   catches up from the store as its socket drains (see backlog.ts). A fast reader hit by a
//   burst is slowed down, never closed.
// - Everything else (replies, errors, presence, room events, ephemeral rooms' messages) is
//   written; past the whole send buffer the connection is closed with 1013. Memory per
//   connection stays below --send-buffer plus one message either way (a lone message may be
//   bigger than the buffer: a 1 MiB image to an idle reader is not a slow consumer).
// - A connection whose socket takes nothing for --send-timeout while data waits is closed with
//   1013 too: one that stopped reading always goes, however little it is sent.

export interface OutboundOptions {
  /** Unsent bytes past which a connection is a slow consumer (--send-buffer). */
  sendBufferLimit: number;
  /** How long queued data may sit untaken before the connection is closed, ms (--send-timeout). */
  sendTimeoutMs: number;
}

export class Outbound {
  /** Past this, stream events wait in the store instead of the socket. */
  readonly streamLimit: number;

  constructor(
    private readonly opts: OutboundOptions,
    private readonly stats: ChatStats,
    private readonly log: Logger,
  ) {
    this.streamLimit = Math.floor(opts.sendBufferLimit / 2);
  }

  /**
   * Whether a stream event of `size` bytes should not be written now (the member catches up
   * later). An idle connection always takes one, however big.
   */
  full(session: Session, size: number): boolean {
    const buffered = session.conn.bufferedAmount;
    return buffered > 0 && buffered + size > this.streamLimit;
  }

  /** Whether hints (typing) should be skipped: the member has a backlog to get through first. */
  busy(session: Session): boolean {
    return session.conn.bufferedAmount > this.streamLimit;
  }

  /**
   * Writes a room event to a member (counted as delivered). `paced`: the caller asked `full`
   * first or waits for the socket to drain, so the send-buffer check is not needed.
   */
  deliver(session: Session, data: Uint8Array, binary: boolean, paced = false): void {
    if (session.closed || !session.conn.isOpen) return;
    session.conn.send(data, binary);
    this.stats.messagesOut++;
    this.stats.bytesOut += data.byteLength;
    if (!paced) this.check(session, data.byteLength);
  }

  /** Writes a reply, an error or a notice meant for this connection alone. */
  reply(session: Session, data: Uint8Array): void {
    if (session.closed || !session.conn.isOpen) return;
    session.conn.send(data, false);
    this.check(session, data.byteLength);
  }

  private check(session: Session, size: number): void {
    const buffered = session.conn.bufferedAmount;
    if (buffered <= this.opts.sendBufferLimit || buffered <= size) return;
    this.closeSlow(session, `slow consumer: more than ${this.opts.sendBufferLimit} bytes unread; reconnect and resume with since`, buffered);
  }

  /**
   * Closes connections whose socket has taken nothing for --send-timeout while data was waiting.
   * Called about once a second; cheap (two numbers per connection).
   */
  sweep(sessions: Iterable<Session>, now: number): void {
    for (const s of sessions) {
      const conn = s.conn;
      if (!conn.isOpen || conn.bufferedAmount === 0) {
        s.stalledSince = null;
        continue;
      }
      const taken = conn.taken;
      if (s.stalledSince === null || taken !== s.takenAtCheck) {
        s.takenAtCheck = taken;
        s.stalledSince = now;
        continue;
      }
      if (now - s.stalledSince >= this.opts.sendTimeoutMs) {
        this.closeSlow(s, `slow consumer: nothing read for ${Math.round((now - s.stalledSince) / 1000)} s; reconnect and resume with since`, conn.bufferedAmount);
      }
    }
  }

  /** Closes a connection as a slow consumer (1013: it resumes by seq when it comes back). */
  closeSlow(session: Session, reason: string, buffered = session.conn.bufferedAmount): void {
    this.stats.slowConsumers++;
    this.log.info({ session: session.id, buffered }, 'closing slow consumer');
    session.conn.close(CloseCode.TryAgainLater, reason);
  }
}

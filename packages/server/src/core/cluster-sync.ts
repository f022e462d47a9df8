import type { BrokerMessage, ControlMessage } from '../broker/broker.js';
import { userChannel } from '../broker/broker.js';
import type { ChatService } from './chat.js';
import { toMsgEvent } from './events.js';
import { Sequencer } from './sequencer.js';
import { encodeJson } from './session.js';

/**
 * What keeps nodes in step: events from other nodes (in seq order, through the Sequencer),
 * membership changes made elsewhere (control messages), users of crashed nodes (sweeps), and
 * catching up after the broker was away. In embedded mode only the Sequencer does any work.
 */
export class ClusterSync {
  readonly sequencer: Sequencer;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly chat: ChatService,
    opts: { gapMs?: number | undefined; sweepMs?: number | undefined },
  ) {
    this.sequencer = new Sequencer({
      rooms: chat.rooms,
      load: (room, after, upTo) => chat.store.messagesAfter(room, after, upTo - after),
      lastSeq: async (room) => (await chat.store.getRoom(room))?.lastSeq ?? 0,
      encode: (m) => encodeJson(toMsgEvent(m)),
      gapMs: opts.gapMs ?? 200,
      onError: (err, room) => chat.log.warn({ err, room }, 'could not read missed messages from the store; will retry'),
    });
    if (chat.broker.sweep) {
      this.sweeper = setInterval(() => void this.sweep(), opts.sweepMs ?? 5000);
      this.sweeper.unref();
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** Users of nodes that died without saying goodbye go offline: tell the rooms. */
  private async sweep(): Promise<void> {
    for (const room of [...this.chat.rooms.all()]) {
      try {
        const { online, gone } = (await this.chat.broker.sweep?.(room.info.id)) ?? { online: 0, gone: [] };
        for (const user of gone) this.chat.broadcast(room.info.id, { op: 'presence', room: room.info.id, event: 'leave', user, online });
      } catch (err) {
        this.chat.log.debug({ err, room: room.info.id }, 'presence sweep failed');
      }
    }
  }

  /** The broker is back after an outage: deliver what other nodes published meanwhile. */
  recover(): void {
    for (const room of [...this.chat.rooms.all()]) void this.sequencer.catchUp(room);
  }

  readonly onBrokerMessage = (m: BrokerMessage): void => {
    if (m.control) {
      void this.chat.track(this.applyControl(m.room, m.control)).catch((err: unknown) => this.chat.log.warn({ err, room: m.room }, 'control message failed'));
      return;
    }
    const target = { data: m.data, binary: m.binary, seq: m.seq, exceptSession: m.exceptConn, exceptUser: m.exceptUser, droppable: m.droppable };
    const live = this.chat.rooms.get(m.room);
    if (m.seq !== undefined && live) this.sequencer.offer(live, { ...target, seq: m.seq });
    else this.chat.rooms.deliver(m.room, target);
  };

  /** Tells the other nodes to apply a membership change to their connections too. */
  control(channel: string, control: ControlMessage): void {
    this.chat.broker.publish({ room: channel, data: new Uint8Array(0), binary: false, control });
  }

  /** A membership change made on another node, applied to this node's connections. */
  private async applyControl(channel: string, c: ControlMessage): Promise<void> {
    if (c.kind === 'attach') {
      const userId = channel.slice(userChannel('').length);
      const sessions = [...(this.chat.users.get(userId) ?? [])].filter((s) => !s.closed);
      if (sessions.length === 0) return;
      const room = await this.chat.loadRoom(c.room);
      for (const s of sessions) {
        s.memberOf.add(room.id);
        if (!s.rooms.has(room.id)) await this.chat.attach(s, room, false, c.after + 1);
      }
      return;
    }
    for (const s of [...this.chat.sessions]) {
      const dropped = c.kind === 'drop-room' || s.user.id === c.user;
      if (!dropped || !(s.memberOf.has(channel) || s.rooms.has(channel))) continue;
      s.memberOf.delete(channel);
      if (c.kind === 'drop-user' && c.notify) s.sendJson(c.notify);
      if (c.kind === 'drop-room' && c.notify && !s.rooms.has(channel)) s.sendJson(c.notify);
      if (s.rooms.has(channel)) await this.chat.detach(s, channel, c.kind === 'drop-room');
    }
  }
}

import type { Broker, BrokerMessage, ControlMessage } from '../broker/broker.js';
import { USER_CHANNEL_PREFIX } from '../broker/broker.js';
import type { Delivery } from './delivery.js';
import type { Logger } from './logger.js';
import type { Membership } from './membership.js';
import { closeUserHere } from './moderation.js';
import type { SessionRegistry } from './registry.js';
import type { Work } from './work.js';

export interface ClusterSyncDeps {
  broker: Broker;
  delivery: Delivery;
  membership: Membership;
  registry: SessionRegistry;
  log: Logger;
  work: Work;
  /** How often rooms are checked for users of crashed nodes (brokers with `sweep`), ms. */
  sweepMs: number;
}

/**
 * What arrives from the broker: other nodes' room events (in seq order, through the Sequencer),
 * membership changes made elsewhere (control messages), users of crashed nodes (sweeps), and
 * catching up after the broker was away. In one process nothing arrives.
 */
export class ClusterSync {
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly d: ClusterSyncDeps) {
    if (d.broker.sweep) {
      this.sweeper = setInterval(() => void this.sweep(), d.sweepMs);
      this.sweeper.unref();
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** Users of nodes that died without saying goodbye go offline: tell the rooms. */
  private async sweep(): Promise<void> {
    for (const room of [...this.d.delivery.rooms.all()]) {
      try {
        const { online, gone } = (await this.d.broker.sweep?.(room.info.id)) ?? { online: 0, gone: [] };
        for (const user of gone) this.d.delivery.broadcast(room.info.id, { op: 'presence', room: room.info.id, event: 'leave', user, online });
      } catch (err) {
        this.d.log.debug({ err, room: room.info.id }, 'presence sweep failed');
      }
    }
  }

  /** The broker is back after an outage: deliver what other nodes published meanwhile. */
  recover(): void {
    const sequencer = this.d.delivery.sequencer;
    if (!sequencer) return;
    for (const room of [...this.d.delivery.rooms.all()]) void sequencer.catchUp(room);
  }

  readonly onBrokerMessage = (m: BrokerMessage): void => {
    if (m.control) {
      void this.d.work.track(this.applyControl(m.room, m.control)).catch((err: unknown) => this.d.log.warn({ err, room: m.room }, 'control message failed'));
      return;
    }
    const target = { data: m.data, binary: m.binary, seq: m.seq, exceptSession: m.exceptConn, exceptUser: m.exceptUser, droppable: m.droppable };
    const delivery = this.d.delivery;
    const live = delivery.rooms.get(m.room);
    if (m.seq !== undefined && live && delivery.sequencer) delivery.sequencer.offer(live, { ...target, seq: m.seq });
    else delivery.rooms.deliver(m.room, target);
  };

  /** A membership change made on another node, applied to this node's connections. */
  private async applyControl(channel: string, c: ControlMessage): Promise<void> {
    const { membership, registry } = this.d;
    if (c.kind === 'disconnect') {
      closeUserHere(registry, c.user, c.code, c.reason);
      return;
    }
    if (c.kind === 'attach') {
      const userId = channel.slice(USER_CHANNEL_PREFIX.length);
      const sessions = registry.of(userId).filter((s) => !s.closed);
      if (sessions.length === 0) return;
      const room = await membership.loadRoom(c.room);
      for (const s of sessions) {
        s.memberOf.add(room.id);
        if (!s.rooms.has(room.id)) await membership.attach(s, room, false, c.after + 1);
      }
      return;
    }
    // A user's leave or kick comes on their own channel (every node with one of their
    // connections hears it, joined to the room or not) and names the room.
    const roomId = c.kind === 'drop-user' && c.room !== undefined ? c.room : channel;
    const candidates = c.kind === 'drop-user' ? registry.of(c.user) : [...registry.sessions];
    for (const s of candidates) {
      if (!(s.memberOf.has(roomId) || s.rooms.has(roomId))) continue;
      s.memberOf.delete(roomId);
      if (c.kind === 'drop-user' && c.notify) s.sendJson(c.notify);
      if (c.kind === 'drop-room' && c.notify && !s.rooms.has(roomId)) s.sendJson(c.notify);
      if (s.rooms.has(roomId)) await membership.detach(s, roomId, c.kind === 'drop-room');
    }
    // Users whose connections here closed within the grace: a leave or kick is announced now,
    // a deleted room's presence is dropped without an event.
    if (c.kind === 'drop-user') await membership.departures.leftNow(roomId, c.user);
    else await membership.departures.roomDeleted(roomId);
  }
}

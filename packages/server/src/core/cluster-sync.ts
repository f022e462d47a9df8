import type { Broker, BrokerMessage, ControlMessage, PresenceResync } from '../broker/broker.js';
import { USER_CHANNEL_PREFIX } from '../broker/broker.js';
import type { Store } from '../store/store.js';
import type { Delivery } from './delivery.js';
import type { Logger } from './logger.js';
import { userKey, type Membership } from './membership.js';
import { recheckMemberships } from './membership-recheck.js';
import { closeUserHere } from './moderation.js';
import type { SessionRegistry } from './registry.js';
import type { Work } from './work.js';

export interface ClusterSyncDeps {
  broker: Broker;
  store: Store;
  delivery: Delivery;
  membership: Membership;
  registry: SessionRegistry;
  log: Logger;
  work: Work;
  /** How often the broker is asked to sweep users of crashed nodes (brokers with `sweep`), ms. */
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

  /**
   * Users of node instances that died without saying goodbye go offline: tell the rooms. The
   * broker sweeps only when an instance died (no Redis call otherwise), whatever rooms are
   * hosted here; `broadcast` tells every node.
   */
  private async sweep(): Promise<void> {
    try {
      this.announce((await this.d.broker.sweep?.()) ?? []);
    } catch (err) {
      this.d.log.debug({ err }, 'presence sweep failed');
    }
  }

  /** The broker is back after an outage: presence as this node holds it, then missed messages. */
  recover(): void {
    void this.resyncPresence();
    // Kicks and deletes sent meanwhile may have been lost: check the cached memberships.
    void this.d.work.track(recheckMemberships(this.d)).catch((err: unknown) => this.d.log.warn({ err }, 're-checking memberships after the broker recovered failed'));
    const sequencer = this.d.delivery.sequencer;
    if (!sequencer) return;
    for (const room of [...this.d.delivery.rooms.all()]) void sequencer.catchUp(room);
  }

  private async resyncPresence(): Promise<void> {
    try {
      this.announce((await this.d.broker.resyncPresence?.()) ?? []);
    } catch (err) {
      this.d.log.warn({ err }, 'putting presence back after the broker recovered failed; it is retried at the next recovery or lease gap');
    }
  }

  /** Presence changes found by a sweep or a resync, as `presence` events of their rooms. */
  private announce(changes: PresenceResync[]): void {
    for (const c of changes) {
      // A user's own scope (`~user:ID`, "is online anywhere") is no room: nothing to tell.
      if (c.room.startsWith(userKey(''))) continue;
      for (const user of c.left) this.d.delivery.broadcast(c.room, { op: 'presence', room: c.room, event: 'leave', user, online: c.online });
      for (const user of c.joined) this.d.delivery.broadcast(c.room, { op: 'presence', room: c.room, event: 'join', user, online: c.online });
    }
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
    const roomId = c.room ?? channel;
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

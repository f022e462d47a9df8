import { CloseCode, type ModerationEvent, type RoomInfo, type UserRef } from '@roomcast/protocol';
import { outboxEvent } from '../store/outbox.js';
import type { BanRecord, MuteRecord, OutboxEvent, RoomRole, Store } from '../store/store.js';
import type { Delivery } from './delivery.js';
import { ChatError } from './errors.js';
import { userRef } from './events.js';
import type { Logger } from './logger.js';
import type { Membership } from './membership.js';
import { bannedFromRoom, MAX_UNTIL, serverBanReason } from './moderation-errors.js';
import type { Moderation, ModerationActor } from './moderation-types.js';
import { disconnectUser, kickMember } from './moderation.js';
import type { SessionRegistry } from './registry.js';
import type { User } from './session.js';

export type { BanRecord, ModerationActor, MuteRecord, RoomModeration, RoomRole } from './moderation-types.js';

export interface RoomModerationDeps {
  store: Store;
  delivery: Delivery;
  membership: Membership;
  registry: SessionRegistry;
  log: Logger;
  now: () => number;
}

/** Who may do what: the system, a server admin, then the room's roles. */
type Authority = 'system' | 'server' | RoomRole | null;

const RANK: Record<Exclude<Authority, null>, number> = { system: 4, server: 3, owner: 2, admin: 1, member: 0 };

/**
 * Roles, bans, mutes and slow mode (issue 16), whoever asks: the socket's ops (ops-moderation.ts)
 * and the server API call the same methods, so both have the same effects on every node.
 *
 * Mutes and slow mode are not checked here but by the store, inside the commit of each post
 * (store/post-guard.ts): a mute made on one node holds on every other at the very next send,
 * with no window between the store's commit and a control message's arrival, and a member's
 * slow-mode turn is taken in the same transaction as their message.
 */
export class RoomModerator implements Moderation {
  constructor(private readonly d: RoomModerationDeps) {}

  private async authority(actor: ModerationActor, room: RoomInfo): Promise<Authority> {
    if (actor.kind === 'system') return 'system';
    if (actor.admin) return 'server';
    if (room.owner !== null && room.owner === actor.user.id) return 'owner';
    return this.d.store.memberRole(room.id, actor.user.id);
  }

  private async room(roomId: string): Promise<RoomInfo> {
    const room = await this.d.membership.loadRoom(roomId);
    if (room.direct) throw new ChatError('bad_request', 'a direct conversation has no moderators; block the user in your app, or ban them from the server');
    return room;
  }

  /**
   * Checks that the actor may act on `target` in the room: they must be at least a room admin
   * (`owner` for roles), and outrank the target (an admin cannot ban the owner or another admin).
   */
  private async permit(actor: ModerationActor, room: RoomInfo, target: string, action: string, least: 'admin' | 'owner'): Promise<void> {
    const who = await this.authority(actor, room);
    const need = least === 'owner' ? 'the owner of room' : 'the owner or an admin of room';
    if (who === null || RANK[who] < RANK[least]) throw new ChatError('forbidden', `only ${need} "${room.id}" or a server admin can ${action}`);
    if (actor.kind === 'user' && actor.user.id === target) throw new ChatError('bad_request', `you cannot ${action} yourself`);
    const theirs = room.owner === target ? 'owner' : await this.d.store.memberRole(room.id, target);
    if (theirs !== null && theirs !== 'member' && RANK[theirs] >= RANK[who]) {
      throw new ChatError('forbidden', `user "${target}" is ${theirs === 'owner' ? 'the owner' : 'an admin'} of room "${room.id}"; only ${theirs === 'owner' ? 'a server admin' : 'the owner or a server admin'} can ${action} them`);
    }
  }

  private async userOf(id: string): Promise<UserRef> {
    const user = await this.d.store.getUser(id);
    if (!user) throw new ChatError('user_not_found', `no user with id "${id}" has ever connected; check the id`);
    return userRef(user);
  }

  /** The user as events name them; one who never connected by their id. */
  private async refOf(id: string): Promise<UserRef> {
    const user = await this.d.store.getUser(id);
    return user ? userRef(user) : { id, name: id };
  }

  private checkUntil(until: number | null | undefined): number | null {
    if (until === undefined || until === null) return null;
    if (!Number.isSafeInteger(until) || until <= this.d.now() || until > MAX_UNTIL) {
      throw new ChatError('bad_request', `"until" must be a time in the future, in ms since epoch, and at most ${MAX_UNTIL} (the end of year 9999); leave it out for "until lifted"`);
    }
    return until;
  }

  /** The room's `moderation` event, to its members on every node (after the change was stored). */
  private announce(room: RoomInfo, actor: ModerationActor, action: ModerationEvent['action'], user: UserRef, extra: Partial<ModerationEvent> = {}): void {
    const event: ModerationEvent = { op: 'moderation', room: room.id, action, user, by: byOf(actor), ...extra };
    this.d.delivery.broadcast(room.id, event);
  }

  /**
   * The webhook event of an action (member.banned …, user.banned …), written by the store in the
   * same transaction as the change; built only when an endpoint wants it.
   */
  private webhook(type: string, room: string | null, data: Record<string, unknown>): OutboxEvent[] | undefined {
    return this.d.store.outboxWants(type) ? [outboxEvent(type, room, data, this.d.now())] : undefined;
  }

  private memberEvent(action: ModerationEvent['action'], room: RoomInfo, actor: ModerationActor, user: UserRef, extra: Record<string, unknown> = {}): OutboxEvent[] | undefined {
    return this.webhook(`member.${WEBHOOK_OF[action]}`, room.id, { room: room.id, user, by: byOf(actor), ...extra });
  }

  async setRole(actor: ModerationActor, roomId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    const room = await this.room(roomId);
    const who = await this.authority(actor, room);
    if (who === null || RANK[who] < RANK.owner) throw new ChatError('forbidden', `only the owner of room "${room.id}" or a server admin can change roles`);
    if (room.owner === userId) throw new ChatError('bad_request', `user "${userId}" owns room "${room.id}"; the owner's role cannot change`);
    const user = await this.userOf(userId);
    if (!(await this.d.store.setMemberRole(room.id, userId, role, this.memberEvent('role', room, actor, user, { role })))) throw new ChatError('not_member', `user "${userId}" is not a member of room "${room.id}"; invite them first`);
    this.announce(room, actor, 'role', user, { role });
  }

  async ban(actor: ModerationActor, roomId: string, userId: string, opts: { until?: number | null; reason?: string } = {}): Promise<BanRecord> {
    const room = await this.room(roomId);
    await this.permit(actor, room, userId, 'ban', 'admin');
    const user = await this.userOf(userId);
    const ban: BanRecord = { room: room.id, user: userId, until: this.checkUntil(opts.until), reason: opts.reason ?? null, by: actor.kind === 'user' ? actor.user.id : null, at: this.d.now() };
    const extra = { until: ban.until, ...(ban.reason !== null ? { reason: ban.reason } : {}) };
    await this.d.store.putBan(ban, this.memberEvent('ban', room, actor, user, extra));
    // Announced first, so the banned user's connections hear why before they are detached.
    this.announce(room, actor, 'ban', user, extra);
    try {
      await kickMember(this.d, room, userId, this.memberEvent('kick', room, actor, user));
    } catch (err) {
      // Banning someone who is not (or no longer) a member is allowed: it keeps them out.
      if (!(err instanceof ChatError && err.code === 'not_member')) throw err;
    }
    return ban;
  }

  async unban(actor: ModerationActor, roomId: string, userId: string): Promise<boolean> {
    const room = await this.room(roomId);
    await this.permit(actor, room, userId, 'unban', 'admin');
    const user = await this.refOf(userId);
    const lifted = await this.d.store.deleteBan(room.id, userId, this.d.now(), this.memberEvent('unban', room, actor, user));
    if (lifted) this.announce(room, actor, 'unban', user);
    return lifted;
  }

  async mute(actor: ModerationActor, roomId: string, userId: string, opts: { until?: number | null } = {}): Promise<MuteRecord> {
    const room = await this.room(roomId);
    await this.permit(actor, room, userId, 'mute', 'admin');
    const user = await this.userOf(userId);
    const mute: MuteRecord = { room: room.id, user: userId, until: this.checkUntil(opts.until), by: actor.kind === 'user' ? actor.user.id : null, at: this.d.now() };
    await this.d.store.putMute(mute, this.memberEvent('mute', room, actor, user, { until: mute.until }));
    this.announce(room, actor, 'mute', user, { until: mute.until });
    return mute;
  }

  async unmute(actor: ModerationActor, roomId: string, userId: string): Promise<boolean> {
    const room = await this.room(roomId);
    await this.permit(actor, room, userId, 'unmute', 'admin');
    const user = await this.refOf(userId);
    const lifted = await this.d.store.deleteMute(room.id, userId, this.d.now(), this.memberEvent('unmute', room, actor, user));
    if (lifted) this.announce(room, actor, 'unmute', user);
    return lifted;
  }

  async bans(roomId: string): Promise<BanRecord[]> {
    const room = await this.d.membership.loadRoom(roomId);
    return this.d.store.listBans(room.id, this.d.now());
  }

  async mutes(roomId: string): Promise<MuteRecord[]> {
    const room = await this.d.membership.loadRoom(roomId);
    return this.d.store.listMutes(room.id, this.d.now());
  }

  async banUser(userId: string, opts: { until?: number | null; reason?: string } = {}): Promise<BanRecord> {
    const ban: BanRecord = { room: null, user: userId, until: this.checkUntil(opts.until), reason: opts.reason ?? null, by: null, at: this.d.now() };
    // Stored before the connections close, so a reconnect on any node is refused.
    const user = await this.refOf(userId);
    await this.d.store.putBan(ban, this.webhook('user.banned', null, { user, until: ban.until, reason: ban.reason }));
    disconnectUser(this.d, userId, { code: CloseCode.Forbidden, reason: serverBanReason(ban.until) });
    return ban;
  }

  async unbanUser(userId: string): Promise<boolean> {
    return this.d.store.deleteBan(null, userId, this.d.now(), this.webhook('user.unbanned', null, { user: await this.refOf(userId) }));
  }

  userBan(userId: string): Promise<BanRecord | null> {
    return this.d.store.getBan(null, userId, this.d.now());
  }

  async kick(actor: ModerationActor, room: RoomInfo, userId: string): Promise<void> {
    await this.permit(actor, room, userId, 'kick', 'admin');
    const user = await this.refOf(userId);
    await kickMember(this.d, room, userId, this.memberEvent('kick', room, actor, user));
    this.announce(room, actor, 'kick', user);
  }

  async refuseBanned(room: RoomInfo, userId: string): Promise<void> {
    const ban = await this.d.store.getBan(room.id, userId, this.d.now());
    if (ban) throw bannedFromRoom(room.id, ban.until);
  }

  async isModerator(user: User, room: RoomInfo): Promise<boolean> {
    const who = await this.authority({ kind: 'user', user, admin: user.admin }, room);
    return who !== null && RANK[who] >= RANK.admin;
  }

  async requireModerator(user: User, room: RoomInfo, action: string): Promise<void> {
    if (!(await this.isModerator(user, room))) throw new ChatError('forbidden', `only the owner or an admin of room "${room.id}" (or a server admin) can ${action}`);
  }
}

const WEBHOOK_OF: Record<ModerationEvent['action'], string> = { ban: 'banned', unban: 'unbanned', mute: 'muted', unmute: 'unmuted', role: 'role', kick: 'kicked' };

const byOf = (actor: ModerationActor): UserRef | null => (actor.kind === 'system' ? null : userRef(actor.user));

/** The actor of a socket request: the connection's user. */
export function actorOf(user: User): ModerationActor {
  return { kind: 'user', user: userRef(user), admin: user.admin };
}

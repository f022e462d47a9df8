import { CloseCode } from '@roomcast/protocol';
import { userChannel, type Broker, type BrokerHandler } from '../broker/broker.js';
import type { Store } from '../store/store.js';
import type { ChatConfig } from './config.js';
import { userRef } from './events.js';
import { TokenBucket, type ResumeBudgets } from './limits.js';
import type { Logger } from './logger.js';
import { outboxEvent } from '../store/outbox.js';
import { userKey, type Membership } from './membership.js';
import type { Outbound } from './outbound.js';
import type { SessionRegistry } from './registry.js';
import { serverBanReason } from './moderation-errors.js';
import { encodeCursor } from './room-pages.js';
import { Session, type Connection, type SessionAuth, type User } from './session.js';
import type { ChatStats } from './stats.js';
import type { Work } from './work.js';

export interface SessionsDeps {
  store: Store;
  broker: Broker;
  config: ChatConfig;
  log: Logger;
  now: () => number;
  stats: ChatStats;
  work: Work;
  outbound: Outbound;
  registry: SessionRegistry;
  membership: Membership;
  /** Where the broker's messages on a user's own channel go (ClusterSync). */
  inbound: BrokerHandler;
  /** Resume bursts: reserved for a connection in its welcome, the unspent rest returned at close. */
  resume: ResumeBudgets;
}

/** A connection's life in the core: opened with its `welcome`, expired tokens, closed. */
export class Sessions {
  private readonly replySink = (s: Session, data: Uint8Array): void => this.d.outbound.reply(s, data);

  constructor(private readonly d: SessionsDeps) {}

  /**
   * Registers a new connection and sends its `welcome`. Frames that arrive meanwhile wait.
   * `warnings`: sentences for the client about how it connected (a token header not read).
   */
  open(conn: Connection, user: User, auth: SessionAuth = { exp: null, rooms: [] }, guestToken?: string, warnings: readonly string[] = []): Session {
    const c = this.d.config;
    const burst = Math.max(1, c.ratePerSec * 2);
    const session = new Session(conn, user, new TokenBucket(c.ratePerSec, burst, this.d.now()), auth, this.replySink);
    this.scheduleExpiry(session);
    this.d.stats.connectionsTotal++;
    if (this.d.registry.add(session)) {
      void this.d.broker.subscribe(userChannel(user.id), this.d.inbound).catch((err: unknown) => this.d.log.warn({ err }, 'user channel subscribe failed'));
    }
    session.enqueue(() => this.d.work.track(this.welcome(session, guestToken, warnings)));
    return session;
  }

  private async welcome(session: Session, guestToken: string | undefined, warnings: readonly string[]): Promise<void> {
    const { store, config, membership } = this.d;
    try {
      // A server-wide ban refuses the user's tokens (JWT or guest) here, before anything is sent.
      const ban = await store.getBan(null, session.user.id, this.d.now());
      if (ban) return session.conn.close(CloseCode.Forbidden, serverBanReason(ban.until));
      const online = await this.d.broker.presenceAdd(userKey(session.user.id), userRef(session.user));
      // The user's first connection on any node: user.online (webhooks).
      if (online.changed && store.outboxWants('user.online')) await store.enqueueEvents([outboxEvent('user.online', null, { user: userRef(session.user) }, this.d.now())]);
      await store.upsertUser(userRef(session.user));
      // One more than listed tells whether there are more: a user invited into thousands of
      // rooms gets a welcome of bounded size and pages through the rest.
      const rows = await store.memberRooms(session.user.id, { limit: config.welcomeRooms + 1 });
      const more = rows.length > config.welcomeRooms;
      const rooms = await membership.summaries(more ? rows.slice(0, -1) : rows, true);
      for (const r of rooms) session.memberOf.add(r.id);
      const last = rooms.at(-1);
      const resumeBurst = this.resumeBurst(session, rooms.length > 0);
      session.sendJson({
        op: 'welcome',
        session: session.id,
        user: userRef(session.user),
        ...(guestToken ? { guestToken } : {}),
        heartbeat: config.heartbeatMs,
        rooms,
        ...(more && last ? { roomsNext: encodeCursor(last) } : {}),
        ...(warnings.length > 0 ? { warnings: [...warnings] } : {}),
        limits: { maxText: config.maxText, maxBinary: config.maxBinary, ratePerSec: config.ratePerSec, resumeBurst },
      });
    } catch (err) {
      this.d.log.error({ err, session: session.id }, 'welcome failed');
      session.conn.close(CloseCode.Internal, 'the server could not load your rooms; reconnect shortly');
    }
  }

  /**
   * The resume burst this connection gets, reserved from its user's budget now. None without a
   * rate limit (nothing to go beyond), and none for a user in no room: a brand-new guest has no
   * queue to resume, and an attacker minting guests for fresh bursts gets nothing. With
   * --user-rate, no more than that limit's burst, since sends past it are refused anyway.
   */
  private resumeBurst(session: Session, hasRooms: boolean): number {
    const c = this.d.config;
    if (c.ratePerSec <= 0 || !hasRooms) return 0;
    const want = c.userRate > 0 ? Math.min(c.resumeBurst, 2 * c.userRate) : c.resumeBurst;
    return this.d.resume.reserve(session, session.user.id, want, this.d.now());
  }

  /** Closes the connection with 4401 when its token expires, unless a refresh moved `exp`. */
  scheduleExpiry(session: Session): void {
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    const exp = session.auth.exp;
    if (exp === null) return;
    // setTimeout cannot wait longer than ~24.8 days; re-arm until the real expiry.
    const wait = Math.min(exp - this.d.now(), 2 ** 31 - 1);
    session.expiryTimer = setTimeout(() => {
      if (session.auth.exp !== exp) return;
      if (this.d.now() < exp) return this.scheduleExpiry(session);
      session.sendJson({ op: 'error', error: { code: 'unauthorized', message: 'your token expired; reconnect with a fresh one (or refresh it with "auth" before it expires)' } });
      session.conn.close(CloseCode.Unauthorized, 'token expired');
    }, Math.max(0, wait));
    session.expiryTimer.unref();
  }

  /** The connection is gone: leave presence everywhere (after the presence grace), free its rooms. */
  async close(session: Session): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    this.d.resume.release(session, this.d.now());
    clearTimeout(session.expiryTimer);
    const userGone = this.d.registry.remove(session);
    if (userGone) void this.d.broker.unsubscribe(userChannel(session.user.id)).catch(() => {});
    await this.d.work.track(
      (async () => {
        for (const roomId of [...session.rooms]) await this.d.membership.disconnected(session, roomId);
        if (this.d.registry.hasUser(session.user.id)) return;
        const gone = await this.d.broker.presenceRemove(userKey(session.user.id), session.user.id);
        // Their last connection on any node closed: user.offline (webhooks).
        if (gone.changed && this.d.store.outboxWants('user.offline')) await this.d.store.enqueueEvents([outboxEvent('user.offline', null, { user: userRef(session.user) }, this.d.now())]);
      })().catch((err: unknown) => this.d.log.error({ err, session: session.id }, 'cleanup after disconnect failed')),
    );
  }

  /** Closes every connection with 1001 (the server is stopping; clients move elsewhere). */
  closeAll(): void {
    for (const s of [...this.d.registry.sessions]) s.conn.close(CloseCode.GoingAway, 'server shutting down; reconnect to resume');
  }
}

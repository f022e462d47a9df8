import { ROOMS_CHANNEL, type Broker, type BrokerMessage } from '../broker/broker.js';
import type { Authorize } from './authorize.js';
import type { Store } from '../store/store.js';
import { ClusterSync } from './cluster-sync.js';
import type { ChatConfig } from './config.js';
import { Failures } from './context.js';
import { Delivery } from './delivery.js';
import type { HandlerDeps, VerifiedToken } from './deps.js';
import { PublicRoomDirectory } from './directory.js';
import { FrameIntake } from './intake.js';
import { ResumeBudgets } from './limits.js';
import type { Logger } from './logger.js';
import { Membership } from './membership.js';
import { MessageGate, type BeforeMessage } from './message-gate.js';
import { Outbound } from './outbound.js';
import { Quotas } from './quotas.js';
import { RoomModerator } from './room-moderation.js';
import { RETENTION_SWEEP_MS, RetentionSweeper } from './retention.js';
import { SessionRegistry } from './registry.js';
import { Sessions } from './sessions.js';
import { ChatStats } from './stats.js';
import { Work } from './work.js';

export interface CoreOptions {
  store: Store;
  broker: Broker;
  config: ChatConfig;
  log: Logger;
  /** Several nodes share the broker (cluster mode): cross-node ordering and sweeps are on. */
  clustered: boolean;
  verifyToken?: ((token: string) => Promise<VerifiedToken>) | undefined;
  /** The application's veto on create / join / send / history (core/authorize.ts). */
  authorize?: Authorize | undefined;
  /**
   * What text messages and edits pass before they are stored (server.ts chains the filter, the
   * hook URL and the in-process hook into this one); absent: none, and the send path is unchanged.
   */
  beforeMessage?: BeforeMessage | undefined;
  /** Clock, ms since epoch; injectable for tests. */
  now?: () => number;
  /** How often rooms are checked for users of crashed nodes (brokers with `sweep`), ms. */
  sweepMs?: number;
  /** How long an out-of-order message waits before the gap is read from the store, ms. */
  gapMs?: number;
  /** How often messages past their retention are deleted, ms (default a minute; 0: only `retention.sweep()`). */
  retentionSweepMs?: number;
}

/** The chat core as the gateway, the HTTP side and tests see it. */
export interface Core extends HandlerDeps {
  readonly outbound: Outbound;
  readonly cluster: ClusterSync;
  readonly intake: FrameIntake;
  readonly retention: RetentionSweeper;
  /** Closes every connection with 1001 and waits for work in flight, so the store can close. */
  shutdown(): Promise<void>;
}

/**
 * Builds the core: each service gets what it uses and nothing else, and dependencies point one
 * way (sessions → membership → delivery → live rooms → outbound). The one place that wires it;
 * server.ts calls it with the real store and broker, the test kit with several cores on one bus.
 */
export function createCore(o: CoreOptions): Core {
  const { store, broker, config, log } = o;
  const now = o.now ?? Date.now;
  const stats = new ChatStats();
  const work = new Work();
  const registry = new SessionRegistry();
  const outbound = new Outbound({ sendBufferLimit: config.sendBufferLimit, sendTimeoutMs: config.sendTimeoutMs }, stats, log);
  const quotas = new Quotas({ store, broker, config, stats, now });
  const directory = new PublicRoomDirectory(store, now);
  // The broker's messages go to ClusterSync, which needs the services made before it.
  let cluster: ClusterSync | undefined;
  const inbound = (m: BrokerMessage): void => cluster?.onBrokerMessage(m);
  const delivery = new Delivery({ store, broker, outbound, quotas, stats, work, log, now, clustered: o.clustered, gapMs: o.gapMs ?? 200, inbound, gate: o.beforeMessage ? new MessageGate(o.beforeMessage, config.maxText, log) : undefined });
  const membership = new Membership({ store, broker, delivery, registry, directory, now, work, log, presenceGraceMs: config.presenceGraceMs });
  // Shared by sessions (reserved at welcome, returned at close) and intake (spent per frame).
  const resume = new ResumeBudgets(config.resumeBurst, now());
  const sessions = new Sessions({ store, broker, config, log, now, stats, work, outbound, registry, membership, inbound, resume });
  const moderation = new RoomModerator({ store, delivery, membership, registry, log, now });
  cluster = new ClusterSync({ broker, store, delivery, membership, registry, log, work, sweepMs: o.sweepMs ?? 5000 });
  // Room deletions reach every node (see ROOMS_CHANNEL); the broker restores it after reconnects.
  if (o.clustered) void broker.subscribe(ROOMS_CHANNEL, inbound).catch((err: unknown) => log.warn({ err }, 'subscribing to room deletions failed'));
  const handlers: HandlerDeps = { config, log, now, stats, store, broker, work, registry, quotas, directory, delivery, membership, sessions, moderation, verifyToken: o.verifyToken, authorize: o.authorize };
  const intake = new FrameIntake({ config, stats, log, now, work, failures: new Failures(stats, log, now), handlers, resume });
  // Checking a few times per timeout ends a stalled reader soon after its time is up.
  const stallSweep = setInterval(() => outbound.sweep(registry.sessions, now()), Math.max(50, Math.min(1000, Math.floor(config.sendTimeoutMs / 4))));
  stallSweep.unref();
  const retention = new RetentionSweeper({ store, config, log, work, now, everyMs: o.retentionSweepMs ?? RETENTION_SWEEP_MS });
  const built = cluster;
  return {
    ...handlers,
    outbound,
    cluster: built,
    intake,
    retention,
    async shutdown() {
      built.stop();
      retention.stop();
      clearInterval(stallSweep);
      sessions.closeAll();
      // Users within their presence grace are announced gone now, and later closes at once.
      membership.departures.stop();
      await work.idle();
    },
  };
}

import { randomId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { Dispatcher } from './dispatcher.js';
import { withWebhookEvents } from './event-store.js';
import { WebhookStats } from './stats.js';
import type { WebhookEndpoint } from './types.js';
import { UnreachedChecker } from './unreached.js';

// Webhooks as server.ts starts them: the store told who wants what, the room/member events
// added to its writes, the dispatcher and the unreached checker running.

/** Timing knobs; tests shorten them (ROOMCAST_WEBHOOK_TUNING, JSON), operators need not. */
export interface WebhookTuning {
  backoff: BackoffOptions;
  pollMs: number;
  leaseMs: number;
  maxInFlight: number;
}

export interface WebhookSettings {
  endpoints: readonly WebhookEndpoint[];
  maxAgeMs: number;
  timeoutMs: number;
  unreachedDelayMs: number;
  /** Several nodes share the store: leases of a crashed node expire instead of being released at start. */
  clustered: boolean;
  nodeId?: string;
  tuning?: Partial<WebhookTuning>;
}

export interface Webhooks {
  /** The store to give the core: its room and member writes carry webhook events. */
  store: Store;
  stats: WebhookStats;
  endpoints: readonly WebhookEndpoint[];
  /** Starts sending; `isOnline` tells message.unreached who has a connection anywhere. */
  start(isOnline: (userId: string) => Promise<boolean>): Promise<void>;
  stop(): Promise<void>;
}

/** Tuning from ROOMCAST_WEBHOOK_TUNING (a test knob), over the defaults. */
export function tuningFrom(env: NodeJS.ProcessEnv, s: Pick<WebhookSettings, 'timeoutMs'>): WebhookTuning {
  const given = env.ROOMCAST_WEBHOOK_TUNING ? (JSON.parse(env.ROOMCAST_WEBHOOK_TUNING) as Partial<WebhookTuning>) : {};
  return {
    backoff: { ...DEFAULT_BACKOFF, ...given.backoff },
    pollMs: given.pollMs ?? 2000,
    // Longer than any request can take, so a live node never loses a row it is sending.
    leaseMs: given.leaseMs ?? s.timeoutMs * 2 + 10_000,
    maxInFlight: given.maxInFlight ?? 32,
  };
}

/** Null when no endpoint is configured: then nothing about the store changes. */
export function setUpWebhooks(store: Store, s: WebhookSettings, log: Logger): Webhooks | null {
  if (s.endpoints.length === 0) return null;
  const names = new Set<string>();
  for (const e of s.endpoints) {
    if (names.has(e.name)) throw new Error(`two webhook endpoints are named "${e.name}"; give each a name of its own`);
    names.add(e.name);
  }
  const tuning = { ...tuningFrom(process.env, s), ...s.tuning };
  quiet(
    store.configureOutbox(
      s.endpoints.map((e) => ({ endpoint: e.name, types: e.types ? new Set(e.types) : null })),
      { unreachedDelayMs: s.unreachedDelayMs },
    ),
  );
  const owner = s.nodeId || `node-${randomId(10)}`;
  const stats = new WebhookStats();
  const dispatcher = new Dispatcher({ store, endpoints: s.endpoints, owner, log, stats, maxAgeMs: s.maxAgeMs, ...tuning });
  let checker: UnreachedChecker | undefined;
  return {
    store: withWebhookEvents(store),
    stats,
    endpoints: s.endpoints,
    async start(isOnline) {
      // One process owns an SQLite file: leases of an earlier process are void.
      // (A damaged store refuses: the server still starts, so /readyz can say why.)
      if (!s.clustered) await store.releaseOutboxLeases(null).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'webhook outbox leases could not be released'));
      dispatcher.start();
      if (store.outboxWants('message.unreached')) {
        checker = new UnreachedChecker({ store, isOnline, owner, log, delayMs: s.unreachedDelayMs, pollMs: Math.min(tuning.pollMs, Math.max(50, s.unreachedDelayMs)), leaseMs: tuning.leaseMs });
        checker.start();
      }
    },
    async stop() {
      await checker?.stop();
      await dispatcher.stop();
    },
  };
}

/**
 * A store found damaged refuses every call, these synchronous ones too, with a rejected promise
 * (store/guard.ts): caught here so it is not an unhandled rejection. Its reads fail loudly anyway.
 */
export function quiet(result: unknown): void {
  if (result instanceof Promise) result.catch(() => {});
}

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { OutboxBacklog } from '../store/outbox.js';
import type { WebhookStats } from '../webhooks/stats.js';
import { errors, KEY_OR_ADMIN } from './api-schemas.js';

// GET /api/webhooks/status and the webhook metrics: per endpoint, the outbox's backlog (shared
// by the cluster: read from the store) and what this node's dispatcher did since it started.

/** What the status is read from (webhooks/wiring.ts); absent: no webhooks configured. */
export interface WebhookStatusSource {
  endpoints: ReadonlyArray<{ name: string }>;
  stats: WebhookStats;
  backlog(): Promise<OutboxBacklog[]>;
  now?: () => number;
}

const EndpointStatus = Type.Object({
  endpoint: Type.String({ description: 'The URL (or an in-process endpoint\'s name)' }),
  backlog: Type.Integer({ description: 'Events waiting to be delivered (all nodes)' }),
  oldestPendingMs: Type.Union([Type.Integer(), Type.Null()], { description: 'Age of the oldest waiting event, ms; null: none waiting' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastErrorAt: Type.Union([Type.Integer(), Type.Null()]),
  lastSuccessAt: Type.Union([Type.Integer(), Type.Null()]),
  delivered: Type.Integer({ description: 'Delivered by this node since it started' }),
  failed: Type.Integer({ description: 'Failed attempts on this node since it started (each retry counts)' }),
  dropped: Type.Integer({ description: 'Events this node gave up on after --webhook-max-age' }),
});
const StatusSchema = Type.Object({ endpoints: Type.Array(EndpointStatus) });

export async function webhookStatus(src: WebhookStatusSource | undefined): Promise<{ endpoints: Array<Record<string, unknown>> }> {
  if (!src) return { endpoints: [] };
  const now = (src.now ?? Date.now)();
  const backlog = new Map((await src.backlog()).map((b) => [b.endpoint, b]));
  return {
    endpoints: src.endpoints.map((e) => {
      const b = backlog.get(e.name);
      const s = src.stats.of(e.name);
      return {
        endpoint: e.name,
        backlog: b?.pending ?? 0,
        oldestPendingMs: b?.oldestTs == null ? null : Math.max(0, now - b.oldestTs),
        lastError: s.lastError ?? b?.lastError ?? null,
        lastErrorAt: s.lastErrorAt,
        lastSuccessAt: s.lastSuccessAt,
        delivered: s.delivered,
        failed: s.failed,
        dropped: s.dropped,
      };
    }),
  };
}

/** The route; app.ts's onRoute hook gives /api/webhooks/ routes the admin guard (API key or admin token). */
export function registerWebhookStatus(api: FastifyInstance, src: WebhookStatusSource | undefined): void {
  api.get(
    '/api/webhooks/status',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook delivery per endpoint: backlog, oldest pending age, last error and success, counts',
        security: KEY_OR_ADMIN,
        response: { 200: StatusSchema, ...errors(401, 403) },
      },
    },
    async () => webhookStatus(src),
  );
}

/** Prometheus gauges of the same, read when /metrics is scraped. */
export function addWebhookMetrics(registry: Registry, src: WebhookStatusSource | undefined): void {
  if (!src) return;
  const labelNames = ['endpoint'] as const;
  const fromStatus = (name: string, help: string, read: (e: Record<string, unknown>) => number) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const status = await webhookStatus(src).catch(() => ({ endpoints: [] }));
        for (const e of status.endpoints) this.set({ endpoint: String(e.endpoint) }, read(e));
      },
    });
  fromStatus('roomcast_webhook_backlog', 'Webhook events waiting to be delivered, per endpoint', (e) => Number(e.backlog));
  fromStatus('roomcast_webhook_oldest_pending_seconds', 'Age of the oldest waiting webhook event, per endpoint', (e) => (e.oldestPendingMs === null ? 0 : Number(e.oldestPendingMs) / 1000));
  fromStatus('roomcast_webhook_delivered', 'Webhook events delivered by this node since start, per endpoint', (e) => Number(e.delivered));
  fromStatus('roomcast_webhook_failed', 'Failed webhook attempts on this node since start, per endpoint', (e) => Number(e.failed));
  fromStatus('roomcast_webhook_dropped', 'Webhook events dropped after --webhook-max-age on this node, per endpoint', (e) => Number(e.dropped));
  fromStatus('roomcast_webhook_last_success_timestamp_seconds', 'When this node last delivered a webhook event, per endpoint', (e) => (e.lastSuccessAt === null ? 0 : Number(e.lastSuccessAt) / 1000));
}

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Core } from '../core/core.js';

/** What the counters are read from. */
export type CountedCore = Pick<Core, 'stats' | 'registry' | 'delivery'>;

/** Counters of the HTTP side (the chat's own are in ChatStats). */
export class HttpStats {
  /** Requests refused by --http-rate. */
  rateLimited = 0;
}

/**
 * Prometheus metrics. The hot path only bumps plain counters in ChatStats; they are copied into
 * prom-client when /metrics is scraped.
 */
export function createMetrics(core: CountedCore, connectionCount: () => number, http: HttpStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'roomcast_process_' });
  const s = core.stats;
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('roomcast_connections', 'Open WebSocket connections', connectionCount);
  gauge('roomcast_online_users', 'Distinct users connected to this node', () => core.registry.userCount);
  gauge('roomcast_active_rooms', 'Rooms with members connected to this node', () => core.delivery.rooms.count);
  counter('roomcast_messages_in_total', 'Messages accepted and stored', () => s.messagesIn);
  counter('roomcast_messages_out_total', 'Frames delivered to connections', () => s.messagesOut);
  counter('roomcast_bytes_out_total', 'Bytes of frames delivered to connections', () => s.bytesOut);
  counter('roomcast_frames_in_total', 'Frames received from clients', () => s.framesIn);
  counter('roomcast_errors_total', 'Requests answered with an error', () => s.errors);
  counter('roomcast_rate_limited_total', 'Frames refused by the rate limit', () => s.rateLimited);
  counter('roomcast_slow_consumers_total', 'Connections closed for not reading', () => s.slowConsumers);
  counter('roomcast_connections_total', 'Connections accepted since start', () => s.connectionsTotal);
  counter('roomcast_http_rate_limited_total', 'HTTP requests refused by --http-rate', () => http.rateLimited);
  return registry;
}

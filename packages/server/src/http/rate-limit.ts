import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { clientAddress } from '../gateway/origin.js';
import { HttpProblem } from './errors.js';

// --http-rate: requests per client address on the routes that do work (the API, files, stats,
// metrics), so one address cannot flood the store with file or history reads. @fastify/rate-limit
// counts in fixed windows; a window of two seconds that allows 2 × rate requests gives `rate` a
// second on average and bursts of twice that, like --rate on the WebSocket side.

export interface HttpRateOptions {
  /** Requests a second per address, bursts of twice that; 0: off. */
  rate: number;
  /** As --trust-proxy: the key is the address the WebSocket side uses for its limits. */
  trustProxy: number;
  /** Called for each refused request (counted in the metrics). */
  onLimited: () => void;
}

const RATE_WINDOW_MS = 2_000;

/**
 * Addresses whose counts are kept at once, least recently seen forgotten first: memory stays
 * bounded (under 4 MB, IPv6 keys included) however many addresses send. Forgetting one only
 * restarts its count.
 */
const RATE_LIMIT_ADDRESSES = 10_000;

/** Limits every route registered on `scope` after this (it is a scope-wide hook). */
export async function limitPerAddress(scope: FastifyInstance, o: HttpRateOptions): Promise<void> {
  if (o.rate <= 0) return;
  await scope.register(fastifyRateLimit, {
    global: true,
    max: 2 * o.rate,
    timeWindow: RATE_WINDOW_MS,
    cache: RATE_LIMIT_ADDRESSES,
    keyGenerator: (req) => clientAddress(req.raw, o.trustProxy),
    onExceeded: () => o.onLimited(),
    // Thrown by the plugin after it set Retry-After; our error handler sends it as it is.
    errorResponseBuilder: (_req, ctx) =>
      new HttpProblem(
        429,
        'rate_limited',
        `too many HTTP requests from your address: the limit is ${o.rate} a second (bursts of ${2 * o.rate}); retry in ${Math.max(1, Math.ceil(ctx.ttl / 1000))} s`,
      ),
  });
}

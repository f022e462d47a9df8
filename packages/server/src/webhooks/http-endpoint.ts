import { createHash } from 'node:crypto';
import { signBody } from '../auth/signature.js';
import type { WebhookEndpoint, WebhookEvent } from './types.js';

// A webhook URL as an endpoint: POST the event's JSON, signed; only a 2xx answer counts.

/** The most of a receiver's answer that is read (and thrown away) before the socket is let go. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A receiver that answered, but not 2xx (or did not answer in time): the event is retried. */
export class WebhookDeliveryError extends Error {
  readonly code = 'webhook_failed';
}

export interface UrlEndpointOptions {
  url: string;
  secret: string;
  types?: readonly string[] | undefined;
  /** How long the receiver has to answer, ms. */
  timeoutMs: number;
}

/**
 * How a URL is named in /metrics, the status route, the logs and the outbox: its origin and path.
 * A query string may hold a token, so it is shown only as a short hash (two URLs that differ in
 * the query alone still get two names).
 */
export function endpointName(url: string): string {
  const u = new URL(url);
  const query = u.search ? `?#${createHash('sha256').update(u.search).digest('hex').slice(0, 8)}` : '';
  return `${u.origin}${u.pathname}${query}`;
}

export function urlEndpoint(o: UrlEndpointOptions): WebhookEndpoint {
  const endpoint: WebhookEndpoint = {
    name: endpointName(o.url),
    async deliver(event: WebhookEvent, body: string): Promise<void> {
      let res: Response;
      try {
        res = await fetch(o.url, {
          method: 'POST',
          body,
          // A redirect is an answer that is not 2xx: following it could send the event elsewhere.
          redirect: 'manual',
          signal: AbortSignal.timeout(o.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'x-roomcast-signature': signBody(o.secret, body),
            'x-roomcast-event-id': event.id,
            'x-roomcast-event-type': event.type,
            'user-agent': 'roomcast-webhooks',
          },
        });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        const why = e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (e.cause?.code ?? e.message);
        throw new WebhookDeliveryError(`POST ${o.url} failed: ${why}`);
      }
      await discard(res);
      if (res.status < 200 || res.status > 299) throw new WebhookDeliveryError(`POST ${o.url} answered ${res.status}; only 2xx counts as delivered`);
    },
  };
  if (o.types) endpoint.types = o.types;
  return endpoint;
}

/** Reads the answer's body up to a bound, so the connection can be reused, and drops it. */
async function discard(res: Response): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) return;
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > MAX_ANSWER_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The body failing after the status arrived changes nothing: the status decides.
  }
}

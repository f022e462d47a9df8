import { createHmac, timingSafeEqual } from 'node:crypto';

// The signature on requests roomcast makes to the app's backend (webhooks, the moderation hook),
// as Stripe signs its webhooks: `X-Roomcast-Signature: t=UNIX_SECONDS,v1=HEX`, HEX the lowercase
// hex HMAC-SHA256 of `t + "." + body` under the shared secret. The time in the signed text lets
// a receiver refuse an old request replayed.

export const SIGNATURE_HEADER = 'x-roomcast-signature';

/** The header value for a body sent at `nowMs`. */
export function signBody(secret: string, body: string, nowMs: number = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Whether `header` is a valid signature of `body` under `secret`, made at most `toleranceSec`
 * seconds from `nowMs` (either way).
 */
export function verifySignature(secret: string, header: string | undefined, body: string, toleranceSec = 300, nowMs: number = Date.now()): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()] as const));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || Math.abs(nowMs / 1000 - t) > toleranceSec || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

import type { IncomingHttpHeaders } from 'node:http';

// Tutorial clients (Node `ws`, Socket.IO's extraHeaders) often send their token in a `token:` or
// `x-token:` header. roomcast reads only `Authorization: Bearer`, `?token=` and the `auth` frame,
// so such a client would silently become a guest on an `--auth both` server. It still does (the
// header is not a credential we promised to read), but now it is told, and so is the operator.

/** Headers tutorial code puts a token in, which roomcast does not read. */
const SEED_HEADERS = ['token', 'x-token'] as const;

export type SeedHeader = (typeof SEED_HEADERS)[number];

/**
 * The tutorial-style token header an upgrade carries when it brings no token roomcast reads
 * (no `Authorization: Bearer`, no `?token=`), else null.
 */
export function seedTokenHeader(headers: IncomingHttpHeaders, query: URLSearchParams): SeedHeader | null {
  if (query.get('token') || headers.authorization?.startsWith('Bearer ')) return null;
  return SEED_HEADERS.find((h) => typeof headers[h] === 'string' && headers[h] !== '') ?? null;
}

/** The `welcome.warnings` entry for a client connected as a guest despite its token header. */
export function guestWarning(header: SeedHeader, tokensAccepted: boolean): string {
  return tokensAccepted
    ? `the "${header}" header is not read, so you are connected as a guest; send the JWT as "Authorization: Bearer TOKEN" or ?token=TOKEN, or in an {"op":"auth"} frame`
    : `the "${header}" header is not read, and this server accepts guests only: you are connected as a guest`;
}

/**
 * Appended to a close reason on `--auth jwt` servers. Short: a close reason has 123 bytes, and
 * the reasons it follows take up to about 80.
 */
export function closeHint(header: SeedHeader): string {
  return `; the "${header}" header is not read: use Authorization: Bearer`;
}

/** The operator's log line; throttled by the caller. */
export function logLine(header: SeedHeader, mode: string): string {
  const outcome = mode === 'jwt' ? 'it must still authenticate' : 'it was connected as a guest';
  return `a client sent its token in a "${header}" header, which roomcast does not read (${outcome}); clients must send "Authorization: Bearer TOKEN" or ?token=TOKEN`;
}

// The request target of an upgrade (RFC 9112 §3.2), read without `new URL`: Node's HTTP parser
// passes targets such as `http://[` through, and `new URL` throws on them. Each form is matched
// whole by a pattern first, so nothing later can throw.

/** A path segment character (RFC 3986 pchar without the escape): no `[`, `]`, `\`, space or controls. */
const PCHAR = "[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}";
/**
 * Query characters: printable ASCII except `#`, escapes well formed. Looser than RFC 3986
 * because browsers send `[ ] { } | ^` and backquote unescaped in queries.
 */
const QCHAR = "[!\"$&-~]|%[0-9A-Fa-f]{2}";
const PATH = `(?:/(?:${PCHAR})*)+`;
const QUERY = `(?:\\?((?:${QCHAR})*))?`;
/** origin-form: `/path?query`. */
const ORIGIN_FORM = new RegExp(`^(${PATH})${QUERY}$`);
/**
 * absolute-form with an http(s) or ws(s) scheme, no user info, a non-empty host (bracketed IPv6
 * or a registered name), an optional port, then origin-form without its leading requirement.
 */
const ABSOLUTE_FORM = new RegExp(
  `^(?:https?|wss?)://(\\[[0-9A-Fa-f:.]+\\]|(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::(\\d{0,5}))?(${PATH})?${QUERY}$`,
  'i',
);

export type RequestTarget = { ok: true; path: string; query: URLSearchParams } | { ok: false; reason: string };

/** The path and query of a request target, or why the target is malformed. */
export function parseRequestTarget(raw: string | undefined): RequestTarget {
  if (raw === undefined || raw.length === 0) return bad('the request has no target');
  const origin = ORIGIN_FORM.exec(raw);
  if (origin) return { ok: true, path: origin[1] as string, query: new URLSearchParams(origin[2] ?? '') };
  const absolute = ABSOLUTE_FORM.exec(raw);
  if (!absolute) return bad(`the request target ${quote(raw)} is not a path like /ws?name=NAME`);
  const [, host, port, path, query] = absolute;
  if (port !== undefined && port !== '' && Number(port) > 65535) return bad(`the port in ${quote(raw)} is over 65535`);
  if (!hostParses(host as string)) return bad(`the host in ${quote(raw)} is not a valid host name or address`);
  return { ok: true, path: path ?? '/', query: new URLSearchParams(query ?? '') };
}

/** The host as the WHATWG parser sees it (bad IPv6 literals, escapes that decode to junk). */
function hostParses(host: string): boolean {
  try {
    return new URL(`http://${host}/`).hostname.length > 0;
  } catch {
    return false;
  }
}

function bad(reason: string): RequestTarget {
  return { ok: false, reason };
}

/** A target in a message: clipped, and with anything unprintable escaped. */
function quote(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}

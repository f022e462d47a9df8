/** Error codes carried in `reply.error.code` and `error.error.code`. Stable strings: clients branch on them. */
export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'room_not_found',
  'room_exists',
  'room_full',
  'not_member',
  'user_not_found',
  'too_large',
  'rate_limited',
  'unavailable',
  'internal',
  // Extension: no such message (edit, unsend, react, replyTo), route or file.
  'not_found',
  // Extension: the moderation hook or the built-in filter refused the message; the message says why.
  'rejected',
  // Extension, moderation: banned from the room (or server), muted in it, or sending faster than its slow mode.
  'banned',
  'muted',
  'slow_mode',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** WebSocket close codes the server uses; see docs/protocol.md. */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** Server shutting down; reconnect (to another node if there is one). */
  GoingAway: 1001,
  /** Frame larger than the server accepts. */
  TooLarge: 1009,
  /** Internal error. */
  Internal: 1011,
  /** Slow consumer or overloaded: reconnect later and resume with `since`. */
  TryAgainLater: 1013,
  /** Bad connection parameters (e.g. an invalid `name`); fix them before reconnecting. */
  BadParams: 4400,
  /** Authentication failed or token expired. */
  Unauthorized: 4401,
  /** Origin not allowed, or banned. */
  Forbidden: 4403,
  /** No `auth` frame within the auth timeout. */
  AuthTimeout: 4408,
  /** An administrator closed every connection of the user (admin API); do not reconnect on your own. */
  Disconnected: 4410,
  /** Too many connections from this address or user. */
  TooManyConnections: 4429,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** The WebSocket subprotocol the server echoes when a client offers it. */
export const SUBPROTOCOL = 'roomcast.v1';

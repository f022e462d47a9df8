import { CloseCode, type ErrorBody, type ErrorCode } from '@roomcast/protocol';

/** Failures the SDK detects itself, beside the server's protocol error codes. */
export type ClientErrorCode =
  /** `close()` was called before the request finished. */
  | 'closed'
  /** No reply within `requestTimeout`. */
  | 'timeout'
  /** The connection dropped while a request that cannot be safely repeated was in flight. */
  | 'disconnected'
  /** Too many unacknowledged sends (`outboxLimit`). */
  | 'outbox_full';

export type RoomcastErrorCode = ErrorCode | ClientErrorCode;

/**
 * Every error the SDK reports: a stable `code` to branch on and a sentence a person can act on.
 * `closeCode` is set when the error comes from the server closing the connection.
 */
export class RoomcastError extends Error {
  override readonly name = 'RoomcastError';
  /** `banned`, `muted`: when it ends, ms since epoch; null: until lifted. */
  until?: number | null;
  /** `slow_mode`: ms until the next message may be sent. */
  retryAfter?: number;

  constructor(
    readonly code: RoomcastErrorCode,
    message: string,
    readonly closeCode?: number,
  ) {
    super(message);
  }

  /** The error a failed `reply` or an `error` event carries. */
  static fromBody(body: ErrorBody | { code: string; message: string }): RoomcastError {
    // The server speaks the protocol's codes; a newer server's extra code passes through as is.
    const err = new RoomcastError(body.code as ErrorCode, String(body.message));
    if ('until' in body && (typeof body.until === 'number' || body.until === null)) err.until = body.until;
    if ('retryAfter' in body && typeof body.retryAfter === 'number') err.retryAfter = body.retryAfter;
    return err;
  }
}

/** Pause, ms, before repeating a request the server refused for now (`isTransient`). */
export const RETRY_AFTER_MS = 1000;

/** Server error codes worth retrying the same request for after a short pause. */
export function isTransient(code: string): boolean {
  return code === 'rate_limited' || code === 'unavailable';
}

/** The error code that best describes a close code, for the `error` event. */
export function codeForClose(code: number): RoomcastErrorCode {
  switch (code) {
    case CloseCode.BadParams:
      return 'bad_request';
    case CloseCode.Unauthorized:
    case CloseCode.AuthTimeout:
      return 'unauthorized';
    case CloseCode.Forbidden:
    case CloseCode.Disconnected:
      return 'forbidden';
    case CloseCode.TooManyConnections:
      return 'rate_limited';
    case CloseCode.TooLarge:
      return 'too_large';
    case CloseCode.Internal:
      return 'internal';
    default:
      return 'unavailable';
  }
}

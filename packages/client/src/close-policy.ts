import { CloseCode } from '@roomcast/protocol';

/** What the client does after a connection ended with a close code. */
export type CloseAction =
  /** Reconnect with backoff (network failures, restarts, slow-consumer closes, limits). */
  | 'retry'
  /** Reconnect after asking getToken() for a fresh token. */
  | 'refresh-token'
  /** Reconnect without the guest token the server no longer accepts: a new guest. */
  | 'new-guest'
  /** Stop: retrying cannot help (bad parameters, forbidden, a fixed token refused). */
  | 'stop';

/** Decides what a close code means, given how this client authenticates. */
export function closeAction(code: number, auth: { getToken: boolean; token: boolean; guestToken: boolean }): CloseAction {
  // 4410: an administrator disconnected the user; coming straight back would undo that.
  if (code === CloseCode.BadParams || code === CloseCode.Forbidden || code === CloseCode.Disconnected) return 'stop';
  if (code !== CloseCode.Unauthorized) return 'retry';
  if (auth.getToken) return 'refresh-token';
  if (auth.token) return 'stop';
  if (auth.guestToken) return 'new-guest';
  return 'stop';
}

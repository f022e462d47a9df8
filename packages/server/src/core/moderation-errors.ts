import type { ErrorBody } from '@roomcast/protocol';
import { ChatError } from './errors.js';

// The moderation refusals, which tell the client when they end: `banned` and `muted` carry
// `until` (null: until lifted), `slow_mode` carries `retryAfter` (ms).

/** The latest `until` a ban or mute may have: the end of year 9999 (the protocol's schema says so too). */
export const MAX_UNTIL = 253_402_300_799_999;

/** The time as ISO 8601; never throws (a stored value beyond Date's range is shown as ms). */
function iso(until: number): string {
  const d = new Date(until);
  return Number.isFinite(d.getTime()) ? d.toISOString() : `${until} ms since epoch`;
}

const when = (until: number | null): string => (until === null ? 'until a moderator lifts it' : `until ${iso(until)}`);

export class UntilError extends ChatError {
  constructor(
    code: 'banned' | 'muted',
    message: string,
    readonly until: number | null,
  ) {
    super(code, message);
  }

  override toBody(): ErrorBody {
    return { ...super.toBody(), until: this.until };
  }
}

export class SlowModeError extends ChatError {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super('slow_mode', message);
  }

  override toBody(): ErrorBody {
    return { ...super.toBody(), retryAfter: this.retryAfter };
  }
}

export function bannedFromRoom(room: string, until: number | null): UntilError {
  return new UntilError('banned', `you are banned from room "${room}" ${when(until)}`, until);
}

export function bannedFromServer(until: number | null): UntilError {
  return new UntilError('banned', `you are banned from this server ${when(until)}`, until);
}

export function mutedIn(room: string, until: number | null): UntilError {
  return new UntilError('muted', `you are muted in room "${room}" ${when(until)}: you can read, but not send, edit or react`, until);
}

/**
 * The server API's refusal of a post `from` a user who may not post (server-banned, banned from
 * the room, or muted there): the same codes and `until` as the socket's.
 */
export function postRefused(code: 'banned' | 'muted', user: string, room: string | null, until: number | null): UntilError {
  const what = code === 'muted' ? `muted in room "${room}"` : room === null ? 'banned from this server' : `banned from room "${room}"`;
  return new UntilError(code, `user "${user}" is ${what} ${when(until)}; post as the system (leave out "from") or lift the ${code === 'muted' ? 'mute' : 'ban'} first`, until);
}

export function slowModeWait(room: string, seconds: number, retryAfter: number): SlowModeError {
  const s = Math.ceil(retryAfter / 1000);
  return new SlowModeError(`room "${room}" is in slow mode (one message every ${seconds} s); wait ${s} second${s === 1 ? '' : 's'} and send again`, retryAfter);
}

/** The close reason of a server-wide ban (close code 4403); close reasons hold at most 123 bytes. */
export function serverBanReason(until: number | null): string {
  return `banned from this server ${until === null ? 'until lifted' : `until ${iso(until)}`}`;
}

import type { RoomInfo } from '@roomcast/protocol';
import type { PostRefused } from '../store/post-guard.js';
import { ChatError } from './errors.js';
import { mutedIn, slowModeWait } from './moderation-errors.js';
import type { User } from './session.js';

// Mutes and slow mode are enforced by the store inside the commit of the post (store/post-guard.ts),
// so they hold on every node at once; here is what a post asks for, and what its refusal says.

/**
 * What the commit checks for a post by `user` in `room`: a message its mute and slow mode, a
 * change (edit, reaction) its mute; nothing for server admins and direct conversations.
 */
export function moderatedAs(user: User, room: RoomInfo, kind: 'message' | 'change'): 'message' | 'change' | undefined {
  return user.admin || room.direct ? undefined : kind;
}

/** The client's error for a refused post: `muted` with `until`, or `slow_mode` with `retryAfter`. */
export function refusalOf(err: PostRefused): ChatError {
  if (err.code === 'not_member') return new ChatError('not_member', `you are not a member of room "${err.room}" (any more); join it again if you may`);
  return err.code === 'muted' ? mutedIn(err.room, err.until) : slowModeWait(err.room, err.slowMode, err.retryAfter);
}

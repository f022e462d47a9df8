import { DIRECT_PREFIX } from '@roomcast/protocol';
import { ChatError } from './errors.js';

/**
 * What a user is about to do in a room, as the application's `authorize` hook sees it:
 * `create` a room, `join` it (the `join` op), `send` to it (text, binary, or a direct message:
 * then the room is the conversation's `dm-` id), read its `history` (the `history` op).
 */
export type AuthorizeAction = 'create' | 'join' | 'send' | 'history';

/** The user as roomcast knows them when it asks (the verified identity of the connection). */
export interface AuthorizeUser {
  readonly id: string;
  readonly name: string;
  readonly admin: boolean;
}

/**
 * The application's in-process veto (library mode): false refuses the action with `forbidden`.
 * Asked after roomcast's own checks passed; a throw fails the request with `internal` (logged).
 */
export type Authorize = (user: AuthorizeUser, room: string, action: AuthorizeAction) => boolean | Promise<boolean>;

const VERB: Record<AuthorizeAction, string> = {
  create: 'create room',
  join: 'join room',
  send: 'send to room',
  history: 'read the history of room',
};

/** Throws `forbidden` unless the hook allows it. Callers skip it when no hook is set (no await). */
export async function checkAuthorized(authorize: Authorize, user: AuthorizeUser, room: string, action: AuthorizeAction): Promise<void> {
  const allowed = await authorize({ id: user.id, name: user.name, admin: user.admin }, room, action);
  if (allowed !== true) {
    const what = room.startsWith(DIRECT_PREFIX) && action === 'send' ? 'send this direct message' : `${VERB[action]} "${room}"`;
    throw new ChatError('forbidden', `the application refused to let you ${what}; ask the people who run it for access`);
  }
}

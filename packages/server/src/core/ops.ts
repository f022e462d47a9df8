import type { RequestOf, RequestOp } from '@roomcast/protocol';
import type { RequestContext } from './context.js';
import type { HandlerDeps } from './deps.js';
import { edit, react, unsend } from './ops-changes.js';
import { dm, history, read, send, typing } from './ops-messages.js';
import { ban, mute, role, unban, unmute } from './ops-moderation.js';
import { invite, kick } from './ops-people.js';
import { create, join, leave, members, remove, rooms, share, update } from './ops-rooms.js';
import { search } from './ops-search.js';
import { auth, filekey, ping } from './ops-session.js';

export { sendBinary } from './ops-messages.js';

type Handler<O extends RequestOp> = (d: HandlerDeps, ctx: RequestContext, req: RequestOf<O>) => Promise<void>;

/** One handler per request op; the protocol's schema list and this table must match. */
export const HANDLERS: { [O in RequestOp]: Handler<O> } = {
  auth,
  create,
  join,
  leave,
  send,
  dm,
  edit,
  unsend,
  react,
  search,
  history,
  read,
  typing,
  rooms,
  members,
  invite,
  kick,
  share,
  filekey,
  update,
  delete: remove,
  ping,
  role,
  ban,
  unban,
  mute,
  unmute,
};

import type { RequestOf, RequestOp } from '@roomcast/protocol';
import type { ChatService } from './chat.js';
import type { RequestContext } from './context.js';
import { dm, history, read, send, typing } from './ops-messages.js';
import { auth, create, invite, join, kick, leave, members, ping, remove, rooms, update } from './ops-rooms.js';

export { sendBinary } from './ops-messages.js';

type Handler<O extends RequestOp> = (chat: ChatService, ctx: RequestContext, req: RequestOf<O>) => Promise<void>;

/** One handler per request op; the protocol's schema list and this table must match. */
export const HANDLERS: { [O in RequestOp]: Handler<O> } = {
  auth,
  create,
  join,
  leave,
  send,
  dm,
  history,
  read,
  typing,
  rooms,
  members,
  invite,
  kick,
  update,
  delete: remove,
  ping,
};

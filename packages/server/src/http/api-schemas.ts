import { Type, type TSchema } from '@sinclair/typebox';
import { FIELDS, MAX_HISTORY_PAGE, MAX_NAME_LENGTH } from '@roomcast/protocol';
import { MAX_LIMIT } from './admin-guard.js';

// The server API's schemas: TypeBox, built on the protocol's own fields, so the socket and the
// HTTP API validate the same things and the OpenAPI document (http/openapi.ts) says so.

export const { RoomId, UserId, ClientMsgId, MsgSeq, Meta, Title, Capacity, Visibility, Retention } = FIELDS;

/** Every failure: {error: {code, message}} with a protocol error code. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'a protocol error code (docs/protocol.md)' }),
      message: Type.String(),
      until: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: '`banned`, `muted`: when it ends (ms since epoch; null: until lifted)' })),
      retryAfter: Type.Optional(Type.Integer({ description: '`slow_mode`: ms until the next message may go' })),
    }),
  },
  { description: 'A failure: a protocol error code and a sentence saying what to do' },
);

/** The error responses a route may give, by status. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries([401, 403, ...statuses].map((s) => [s, ErrorBody]));
}

/** API keys and admins' sign-in tokens as `Authorization: Bearer`; keys also as `X-Api-Key`. */
export const KEY_OR_ADMIN: Array<Record<string, readonly string[]>> = [{ bearer: [] }, { apiKey: [] }];

export const RoomParams = Type.Object({ room: RoomId });
export const UserParams = Type.Object({ user: UserId });
export const RoomUserParams = Type.Object({ room: RoomId, user: UserId });
export const MessageParams = Type.Object({ room: RoomId, seq: MsgSeq });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, description: 'the `next` of the previous page' })),
};

export const UserRefSchema = Type.Object({ id: UserId, name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH }) });

export const RoomRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]);

/** A room as the API shows it. */
export const RoomSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.Union([Type.String(), Type.Null()]),
    visibility: Visibility,
    direct: Type.Boolean(),
    owner: Type.Union([Type.String(), Type.Null()]),
    capacity: Type.Union([Type.Integer(), Type.Null()]),
    persist: Type.Boolean(),
    createdAt: Type.Integer(),
    retention: Type.Union([Type.Integer(), Type.Null()]),
    receipts: Type.Boolean(),
    slowMode: Type.Optional(Type.Integer({ description: 'slow mode: seconds between one member\'s messages (absent: off)' })),
    members: Type.Integer(),
    online: Type.Integer(),
    lastSeq: Type.Integer(),
  },
  { additionalProperties: true },
);

export const MemberSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: RoomRole,
    online: Type.Boolean(),
    readSeq: Type.Integer({ description: 'the member\'s read cursor' }),
    joinedAt: Type.Integer(),
  },
  { additionalProperties: true },
);

/** One event of a room's stream as stored (docs/protocol.md, `msg`); fields beyond these pass through. */
export const MessageSchema = Type.Object(
  {
    room: Type.String(),
    seq: Type.Integer(),
    id: Type.String(),
    from: UserRefSchema,
    ts: Type.Integer(),
    text: Type.Optional(Type.String()),
    meta: Type.Optional(Meta),
    edited: Type.Optional(Type.Integer()),
    unsent: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: true },
);

export const MessagePage = Type.Object({ room: Type.String(), messages: Type.Array(MessageSchema), more: Type.Boolean() });

/** What posting a message answers. */
export const Posted = Type.Object({
  room: Type.String(),
  seq: Type.Integer(),
  ts: Type.Integer(),
  id: Type.String(),
  duplicate: Type.Optional(Type.Literal(true)),
});

export const PostMessageBody = Type.Object({
  text: Type.String(),
  id: Type.Optional(ClientMsgId),
  meta: Type.Optional(Meta),
  from: Type.Optional(Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH }) }, { description: 'post as this user; without it, as "system"' })),
  ...FIELDS.Threading,
});

export const HistoryQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_PAGE })),
});

export const Ok = (props: Record<string, TSchema>) => Type.Object(props, { additionalProperties: true });

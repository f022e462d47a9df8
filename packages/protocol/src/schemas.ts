import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { INVITE_TTL_MAX, INVITE_TTL_MIN, MAX_EMOJI_LENGTH, MAX_HISTORY_PAGE, MAX_MENTIONS, MAX_RETENTION_DAYS, MAX_SEARCH_PAGE, MAX_SEARCH_QUERY, MAX_TITLE_LENGTH } from './constants.js';
import { ROOM_ID_PATTERN } from './ids.js';

// Schemas for every client request. They are the single source of truth for the request
// types below and are compiled once by `validate.ts` (server side).

const Ref = Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]);

const RoomId = Type.String({ pattern: ROOM_ID_PATTERN });
const UserId = Type.String({ minLength: 1, maxLength: 128 });
/** Client message ids, used for idempotent retries. */
const ClientMsgId = Type.String({ minLength: 1, maxLength: 64 });
const Seq = Type.Integer({ minimum: 0 });
/** A signed invite link token (`share`'s reply): a compact JWT. */
const InviteToken = Type.String({ minLength: 1, maxLength: 2048 });
const Meta = Type.Record(Type.String(), Type.Unknown());
const Title = Type.String({ minLength: 1, maxLength: MAX_TITLE_LENGTH });
const Capacity = Type.Integer({ minimum: 1, maximum: 1_000_000 });
const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private')]);
/** Days a room keeps its messages (the server deletes older ones). */
const Retention = Type.Integer({ minimum: 1, maximum: MAX_RETENTION_DAYS });
/** The seq of a message in the room's stream. */
const MsgSeq = Type.Integer({ minimum: 1 });
/** What a new message answers and whom it calls by name. */
const Threading = {
  replyTo: Type.Optional(MsgSeq),
  mentions: Type.Optional(Type.Array(UserId, { maxItems: MAX_MENTIONS })),
};

function op<N extends string, P extends Record<string, TSchema>>(name: N, props: P) {
  return Type.Object({ op: Type.Literal(name), ref: Type.Optional(Ref), ...props });
}

/** The fields requests share, for other schemas built on them (the server API's OpenAPI document). */
export const FIELDS = { RoomId, UserId, ClientMsgId, Seq, MsgSeq, Meta, Title, Capacity, Visibility, Retention, Threading } as const;

export const AuthRequest = op('auth', { token: Type.String({ minLength: 1, maxLength: 8192 }) });
export const CreateRequest = op('create', {
  room: Type.Optional(RoomId),
  title: Type.Optional(Title),
  capacity: Type.Optional(Capacity),
  visibility: Type.Optional(Visibility),
  persist: Type.Optional(Type.Boolean()),
  retention: Type.Optional(Retention),
  receipts: Type.Optional(Type.Boolean()),
});
export const JoinRequest = op('join', {
  room: RoomId,
  since: Type.Optional(Seq),
  history: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** Extension: an invite link's token, which lets a non-member into a private room. */
  invite: Type.Optional(InviteToken),
});
export const LeaveRequest = op('leave', { room: RoomId });
export const SendRequest = op('send', {
  room: RoomId,
  text: Type.String(),
  id: Type.Optional(ClientMsgId),
  meta: Type.Optional(Meta),
  ...Threading,
});
export const DmRequest = op('dm', {
  to: UserId,
  text: Type.String(),
  id: Type.Optional(ClientMsgId),
  meta: Type.Optional(Meta),
  ...Threading,
});
/** The author changes a message's text (and meta). */
export const EditRequest = op('edit', { room: RoomId, seq: MsgSeq, text: Type.String(), meta: Type.Optional(Meta) });
/** The author, the room's owner or an admin takes a message back: its content is deleted. */
export const UnsendRequest = op('unsend', { room: RoomId, seq: MsgSeq });
/** Adds (or, with `on: false`, removes) the user's reaction to a message. */
export const ReactRequest = op('react', {
  room: RoomId,
  seq: MsgSeq,
  emoji: Type.String({ minLength: 1, maxLength: MAX_EMOJI_LENGTH }),
  on: Type.Optional(Type.Boolean()),
});
/** Messages the user may read whose text contains `q`, newest first. */
export const SearchRequest = op('search', {
  q: Type.String({ minLength: 1, maxLength: MAX_SEARCH_QUERY }),
  room: Type.Optional(RoomId),
  /** Only messages sent before this time (ms since epoch): the `next` of the previous page. */
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEARCH_PAGE })),
});
export const HistoryRequest = op('history', {
  room: RoomId,
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Messages with seq above this, ascending (not with `before`). */
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_PAGE })),
});
export const ReadRequest = op('read', { room: RoomId, seq: Seq });
export const TypingRequest = op('typing', { room: RoomId });
/** A page position from an earlier `rooms` reply's `next` (or `welcome.roomsNext`). */
export const RoomsCursor = Type.String({ maxLength: 90, pattern: '^[0-9]{1,16}:[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' });
export const RoomsRequest = op('rooms', {
  scope: Type.Optional(Type.Union([Type.Literal('mine'), Type.Literal('public')])),
  /** Extension: the page after this cursor. */
  cursor: Type.Optional(RoomsCursor),
  /** Extension: rooms per page (mine: default and at most 200; public: 100). */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
});
/** Extension: a cursor of the online list (a join reply's `membersNext`, a page's `next`); opaque. */
export const MembersCursor = Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]{1,200}$' });
export const MembersRequest = op('members', {
  room: RoomId,
  /** Extension: `online` pages the users online in the room, in the order they came online. */
  scope: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('online')])),
  /** Extension: the online page after this cursor (implies `scope: "online"`). */
  cursor: Type.Optional(MembersCursor),
  /** Extension: online users per page (default and at most 100). */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
export const InviteRequest = op('invite', { room: RoomId, user: UserId });
export const KickRequest = op('kick', { room: RoomId, user: UserId });
/** Extension: a member mints an invite link's token for the room, valid `ttl` seconds. */
export const ShareRequest = op('share', { room: RoomId, ttl: Type.Optional(Type.Integer({ minimum: INVITE_TTL_MIN, maximum: INVITE_TTL_MAX })) });
/** Extension: a short-lived key that fetches files (`?key=`) but cannot sign in. */
export const FileKeyRequest = op('filekey', {});
/** Extension: the owner or a room admin changes a room's settings; members get a `room` event. */
export const UpdateRequest = op('update', {
  room: RoomId,
  title: Type.Optional(Title),
  capacity: Type.Optional(Type.Union([Capacity, Type.Null()])),
  /** Days to keep messages; null: the server's default. */
  retention: Type.Optional(Type.Union([Retention, Type.Null()])),
  receipts: Type.Optional(Type.Boolean()),
  /** Extension: slow mode, seconds between one member's messages (at most a day); 0 or null: off. */
  slowMode: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 86_400 }), Type.Null()])),
});
/**
 * Extension (moderation): ms since epoch when a ban or mute ends; absent: until lifted. At most
 * the end of year 9999 (a Date beyond ~8.64e15 ms does not exist); the server also wants it in the future.
 */
const Until = Type.Integer({ minimum: 1, maximum: 253_402_300_799_999 });
/** Extension: the owner (or a server admin) makes a member an admin of the room, or a member again. */
export const RoleRequest = op('role', { room: RoomId, user: UserId, role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) });
/** Extension: the owner or an admin bans a user from the room (kicked, and kept out until lifted). */
export const BanRequest = op('ban', { room: RoomId, user: UserId, until: Type.Optional(Until), reason: Type.Optional(Type.String({ maxLength: 500 })) });
export const UnbanRequest = op('unban', { room: RoomId, user: UserId });
/** Extension: the owner or an admin mutes a member: they can read, not send, edit or react. */
export const MuteRequest = op('mute', { room: RoomId, user: UserId, until: Type.Optional(Until) });
export const UnmuteRequest = op('unmute', { room: RoomId, user: UserId });
/** Extension: the owner or an admin deletes a room; members get a `room` event with `deleted: true`. */
export const DeleteRequest = op('delete', { room: RoomId });
export const PingRequest = op('ping', {});

/** Every text-frame request, keyed by op. */
export const REQUEST_SCHEMAS = {
  auth: AuthRequest,
  create: CreateRequest,
  join: JoinRequest,
  leave: LeaveRequest,
  send: SendRequest,
  dm: DmRequest,
  edit: EditRequest,
  unsend: UnsendRequest,
  react: ReactRequest,
  search: SearchRequest,
  history: HistoryRequest,
  read: ReadRequest,
  typing: TypingRequest,
  rooms: RoomsRequest,
  members: MembersRequest,
  invite: InviteRequest,
  kick: KickRequest,
  share: ShareRequest,
  filekey: FileKeyRequest,
  update: UpdateRequest,
  delete: DeleteRequest,
  role: RoleRequest,
  ban: BanRequest,
  unban: UnbanRequest,
  mute: MuteRequest,
  unmute: UnmuteRequest,
  ping: PingRequest,
} as const;

export type RequestOp = keyof typeof REQUEST_SCHEMAS;
export type RequestOf<O extends RequestOp> = Static<(typeof REQUEST_SCHEMAS)[O]>;
export type ClientRequest = { [O in RequestOp]: RequestOf<O> }[RequestOp];

const Mime = Type.String({ pattern: '^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}$' });
const FileName = Type.String({ minLength: 1, maxLength: 200 });

/** The JSON header of a binary frame: a `send` or `dm` (without `text`) plus the payload's type. */
export const BinarySendHeader = op('send', {
  room: RoomId,
  id: Type.Optional(ClientMsgId),
  meta: Type.Optional(Meta),
  mime: Mime,
  name: Type.Optional(FileName),
  ...Threading,
});
export const BinaryDmHeader = op('dm', {
  to: UserId,
  id: Type.Optional(ClientMsgId),
  meta: Type.Optional(Meta),
  mime: Mime,
  name: Type.Optional(FileName),
  ...Threading,
});
export const BINARY_HEADER_SCHEMAS = { send: BinarySendHeader, dm: BinaryDmHeader } as const;
export type BinaryHeader = Static<typeof BinarySendHeader> | Static<typeof BinaryDmHeader>;

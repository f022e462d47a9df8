// @roomcast/client: the roomcast SDK for browsers, Node and WeChat mini programs.
export { RoomcastClient } from './client.js';
export type { ClientEvents, ClientStats, ConnectionState, CreateOptions, DmResult, ErrorContext, FileKeyContext, JoinOptions, RetryContext, ShareResult, StateContext } from './types.js';
export type { ClientOptions } from './options.js';
export type { Listener } from './emitter.js';
export { Room } from './room.js';
export type { ChangeContext, ClosedContext, EditContext, ModerationContext, PresenceContext, ReactionContext, ReceiptContext, RoomEvents, TypingContext, UnsendContext, UpdateContext } from './room.js';
export type { BanOptions, MuteOptions } from './room-moderation.js';
export type { BinaryOptions, HistoryOptions, HistoryPage, MemberInfo, SendOptions, SendResult } from './types.js';
export type { EditOptions, EditResult, ReactResult, SearchOptions, SearchResult, UnsendResult, UpdateOptions } from './types.js';
export type { ChangeEvent } from './stream.js';
export type { Message, MessageBinary } from './messages.js';
export { RoomcastError } from './errors.js';
export type { ClientErrorCode, RoomcastErrorCode } from './errors.js';
export { backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { webSocketFactory } from './socket.js';
export type { Socket, SocketFactory, SocketHandlers, WebSocketConstructor, WebSocketLike } from './socket.js';
export { wxSocket } from './wx.js';
export { browserNetwork, wxNetwork } from './network.js';
export type { BrowserHints, EventTargetLike, NetworkHandlers, NetworkWatcher, WxNetworkLike } from './network.js';
export type { WxConnectOptions, WxError, WxLike, WxSocketOptions, WxSocketTask } from './wx.js';
export type { EditEvent, ReactionCount, ReactionEvent, ReceiptEvent, ReplyQuote, RoomInfo, RoomSummary, UnsendEvent, UserRef } from '@roomcast/protocol';
// The protocol's fixed values, for apps (the web UI among them) that have no other use for the protocol package.
export { DEFAULT_HISTORY_PAGE, DIRECT_PREFIX, MAX_HISTORY_PAGE, MAX_NAME_LENGTH, MAX_TITLE_LENGTH } from '@roomcast/protocol';
export { FILE_KEY_TTL, INVITE_TTL_DEFAULT, INVITE_TTL_MAX, INVITE_TTL_MIN } from '@roomcast/protocol';
export {
  DEFAULT_SEARCH_PAGE,
  MAX_EMOJI_LENGTH,
  MAX_MENTIONS,
  MAX_REACTIONS_PER_MESSAGE,
  MAX_RETENTION_DAYS,
  MAX_SEARCH_PAGE,
  MAX_SEARCH_QUERY,
  REPLY_QUOTE_LENGTH,
  quoteText,
} from '@roomcast/protocol';

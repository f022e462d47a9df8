// Values fixed by the protocol (docs/protocol.md) that the server, the SDK and the UI all need.
// Plain constants, apart from the schemas, so importing them pulls nothing into a browser bundle.

/** Direct conversations are rooms whose id starts with this (`RoomInfo.direct`); `create` refuses such ids. */
export const DIRECT_PREFIX = 'dm-';

/** Most messages one `history` request returns (its `limit` is 1–200). */
export const MAX_HISTORY_PAGE = 200;

/** Messages a `history` request without `limit` returns. */
export const DEFAULT_HISTORY_PAGE = 50;

/** Longest guest nickname (`?name=`), in characters after trimming. */
export const MAX_NAME_LENGTH = 32;

/** Longest room title, in characters. */
export const MAX_TITLE_LENGTH = 100;

/** Most user ids one message may mention. */
export const MAX_MENTIONS = 50;

/** Longest reaction, in characters (an emoji, or a short word such as `+1`). */
export const MAX_EMOJI_LENGTH = 32;

/** Most distinct reactions one message may carry. */
export const MAX_REACTIONS_PER_MESSAGE = 20;

/** Characters of the answered message quoted in a reply's `replyTo.text`. */
export const REPLY_QUOTE_LENGTH = 100;

/** Longest `search` query, in characters. */
export const MAX_SEARCH_QUERY = 200;

/** Most results one `search` request returns (its `limit`; 20 without one). */
export const MAX_SEARCH_PAGE = 100;
export const DEFAULT_SEARCH_PAGE = 20;

/** Longest retention a room may set, in days (100 years). */
export const MAX_RETENTION_DAYS = 36_500;

/** Lifetime of an invite link (`share {ttl}`) when none is asked for, in seconds: 7 days. */
export const INVITE_TTL_DEFAULT = 7 * 86_400;
/** Shortest and longest invite link lifetime `share` accepts, in seconds: a minute, 30 days. */
export const INVITE_TTL_MIN = 60;
export const INVITE_TTL_MAX = 30 * 86_400;

/** Lifetime of a file key (`filekey`), in seconds: an hour. */
export const FILE_KEY_TTL = 3_600;

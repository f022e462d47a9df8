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

export * from './codes.js';
export * from './events.js';
export * from './binary.js';
export type { ClientRequest, RequestOp, RequestOf, BinaryHeader } from './schemas.js';
export { ROOM_ID_PATTERN } from './ids.js';
export * from './constants.js';
export * from './quote.js';

export * from './codes.js';
export * from './events.js';
export * from './binary.js';
export type { ClientRequest, RequestOp, RequestOf, BinaryHeader } from './schemas.js';
// Values (TypeBox schemas): server side; the SDK's bundle leaves this module out (sideEffects: false).
export { FIELDS, REQUEST_SCHEMAS } from './schemas.js';
export { ROOM_ID_PATTERN } from './ids.js';
export * from './constants.js';
export * from './quote.js';

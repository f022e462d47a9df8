import { REQUEST_SCHEMAS, type RequestOp } from './schemas.js';

// The words of the classic "WebSocket chat room" tutorials, which people bring to roomcast:
// frames like {"type":"enter"}, {"type":"message"}, {"type":"userCount"}. A plain "unknown op"
// would send them searching; these hints name the roomcast op that does the same thing.

/** A tutorial's word for an operation, and the roomcast op that does it (op names themselves aside). */
const SEED_OPS: Readonly<Record<string, RequestOp>> = {
  enter: 'join',
  out: 'leave',
  exit: 'leave',
  message: 'send',
  msg: 'send',
  chat: 'send',
  private: 'dm',
  privateMessage: 'dm',
  whisper: 'dm',
  heartbeat: 'ping',
  users: 'members',
  userList: 'members',
};

/** Tutorial words for the online count, which roomcast sends without being asked. */
const COUNT_WORDS = new Set(['userCount', 'usercount', 'count', 'online', 'onlineCount']);

const ONLINE_HINT = 'the online count is "online" in the join and create replies and in every presence event; nothing needs asking';

function isOp(word: string): word is RequestOp {
  return Object.prototype.hasOwnProperty.call(REQUEST_SCHEMAS, word);
}

/** The roomcast op a tutorial word means, when it means one. */
export function seedOp(word: string): RequestOp | undefined {
  return Object.prototype.hasOwnProperty.call(SEED_OPS, word) ? SEED_OPS[word] : undefined;
}

/** What to say about a frame that has a `type` and no `op`. */
export function typeInsteadOfOp(type: unknown): string {
  const lead = 'unknown field "type": roomcast frames name their operation in "op"';
  if (typeof type !== 'string') return `${lead}, e.g. {"op":"send"}`;
  const word = type.slice(0, 32);
  if (isOp(word)) return `${lead}, e.g. {"op":"${word}"}`;
  if (COUNT_WORDS.has(word)) return `${lead}; there is no "${word}" request: ${ONLINE_HINT}`;
  const op = seedOp(word);
  if (op) return `${lead}: "${word}" is {"op":"${op}"} in roomcast`;
  return `${lead}, e.g. {"op":"send"}; the ops are: ${Object.keys(REQUEST_SCHEMAS).join(', ')}`;
}

/** An addition to "unknown op" for a tutorial word: `("enter" is "join" in roomcast)`, or ''. */
export function seedOpHint(word: string): string {
  if (COUNT_WORDS.has(word)) return ` (${ONLINE_HINT})`;
  const op = seedOp(word);
  return op ? ` ("${word}" is "${op}" in roomcast)` : '';
}

import type { ChatConfig } from './config.js';
import { ChatError } from './errors.js';
import { nestsDeeperThan } from './limits.js';

// The checks a message passes before it is stored, the same for the socket's `send`/`dm` and
// the HTTP API's POST: one place, so they cannot drift apart. U+0000 (which PostgreSQL cannot
// store) is refused earlier, at the edges, in every field at once: intake.ts for frames, the
// API's POST for its body.

/** Rejects text that is empty or longer than the limit. */
export function checkText(config: Pick<ChatConfig, 'maxText'>, text: string): void {
  if (text.length === 0) throw new ChatError('bad_request', 'text must not be empty');
  if (text.length > config.maxText) {
    throw new ChatError('too_large', `text is ${text.length} characters; the limit is ${config.maxText}`);
  }
}

/** Rejects `meta` nested too deep or too big, checking depth first: that walk cannot overflow the stack. */
export function checkMeta(config: Pick<ChatConfig, 'maxMetaDepth' | 'maxMetaBytes'>, meta: Record<string, unknown> | undefined): void {
  if (meta === undefined) return;
  if (nestsDeeperThan(meta, config.maxMetaDepth)) {
    throw new ChatError('too_large', `meta nests objects or arrays more than ${config.maxMetaDepth} levels deep; flatten it`);
  }
  const size = Buffer.byteLength(JSON.stringify(meta));
  if (size > config.maxMetaBytes) {
    throw new ChatError('too_large', `meta is ${size} bytes as JSON; the limit is ${config.maxMetaBytes}`);
  }
}

/** Both checks, for a message with text (binary messages have no text). */
export function checkMessage(config: ChatConfig, body: { text?: string | undefined; meta?: Record<string, unknown> | undefined }): void {
  if (body.text !== undefined) checkText(config, body.text);
  checkMeta(config, body.meta);
}

/** How big a history page may get: a quarter of the send buffer, so it always fits. */
export function historyBytes(config: ChatConfig): { max: number; metaMax: number } {
  return { max: Math.floor(config.sendBufferLimit / 4), metaMax: config.maxMetaBytes };
}

import { decodeBinaryFrame, type BinaryHeader, type ClientRequest } from '@roomcast/protocol';
import { refOf, validateBinaryHeader, validateRequest } from '@roomcast/protocol/validate';
import type { ChatService } from './chat.js';
import { RequestContext } from './context.js';
import { ChatError, toErrorBody } from './errors.js';
import { HANDLERS, sendBinary } from './ops.js';
import type { Session } from './session.js';

const textDecoder = new TextDecoder('utf-8');

/**
 * Frames in: parse, validate against the precompiled schemas, rate-limit, then hand each request
 * to its handler in the connection's order. Every failure becomes a `reply` or an `error`.
 */
export class FrameIntake {
  private readonly lastRateError = new WeakMap<Session, number>();

  constructor(private readonly chat: ChatService) {}

  /** A text frame: parse, validate, rate-limit, then run in the session's order. */
  text(session: Session, data: Uint8Array): void {
    if (!session.conn.isOpen) return; // closing: what it sends now is not answered
    this.chat.stats.framesIn++;
    let value: unknown;
    try {
      value = JSON.parse(textDecoder.decode(data));
    } catch {
      this.reject(session, undefined, new ChatError('bad_request', 'the frame is not valid JSON; send one JSON object per text frame'));
      return;
    }
    const ref = refOf(value);
    if (!this.allow(session, ref)) return;
    const v = validateRequest(value);
    if (!v.ok) {
      this.reject(session, ref, new ChatError('bad_request', v.message));
      return;
    }
    this.dispatch(session, v.value);
  }

  /** A binary frame: JSON header (a `send` or `dm` plus `mime`) and the payload. */
  binary(session: Session, data: Uint8Array): void {
    if (!session.conn.isOpen) return;
    this.chat.stats.framesIn++;
    const decoded = decodeBinaryFrame(data);
    const ref = decoded.ok ? refOf(decoded.header) : undefined;
    if (!this.allow(session, ref)) return;
    if (!decoded.ok) {
      this.reject(session, undefined, new ChatError('bad_request', decoded.reason));
      return;
    }
    const v = validateBinaryHeader(decoded.header);
    if (!v.ok) {
      this.reject(session, ref, new ChatError('bad_request', v.message));
      return;
    }
    const header: BinaryHeader = v.value;
    const payload = decoded.payload;
    if (payload.byteLength === 0) {
      this.reject(session, ref, new ChatError('bad_request', 'the binary frame has no payload after its header'));
      return;
    }
    if (payload.byteLength > this.chat.config.maxBinary) {
      this.reject(session, ref, new ChatError('too_large', `the payload is ${payload.byteLength} bytes; the limit is ${this.chat.config.maxBinary}`));
      return;
    }
    const ctx = new RequestContext(session, ref, header.op);
    session.enqueue(() => this.run(ctx, () => sendBinary(this.chat, ctx, header, payload)));
  }

  private allow(session: Session, ref: string | number | undefined): boolean {
    if (session.bucket.take(this.chat.now())) return true;
    this.chat.stats.rateLimited++;
    // Without a ref, tell a flooding client at most once a second instead of once per frame.
    const last = this.lastRateError.get(session) ?? 0;
    if (ref !== undefined || this.chat.now() - last >= 1000) {
      this.lastRateError.set(session, this.chat.now());
      this.reject(
        session,
        ref,
        new ChatError('rate_limited', `too many frames: the limit is ${this.chat.config.ratePerSec} a second; slow down and retry`),
      );
    }
    return false;
  }

  private dispatch(session: Session, req: ClientRequest): void {
    const ctx = new RequestContext(session, req.ref, req.op);
    const handler = HANDLERS[req.op] as (chat: ChatService, ctx: RequestContext, req: ClientRequest) => Promise<void>;
    session.enqueue(() => this.run(ctx, () => handler(this.chat, ctx, req)));
  }

  private async run(ctx: RequestContext, task: () => Promise<void>): Promise<void> {
    if (ctx.session.closed) return;
    try {
      await this.chat.track(task());
    } catch (err) {
      this.fail(ctx, err);
    }
  }

  /** Reports a failed request: a `reply` when it had a ref, else an `error` event. */
  fail(ctx: RequestContext, err: unknown): void {
    const { body, unexpected } = toErrorBody(err);
    if (unexpected) this.chat.log.error({ err, op: ctx.op, session: ctx.session.id }, 'request failed');
    this.chat.stats.errors++;
    this.sendError(ctx.session, ctx.ref, body);
  }

  private reject(session: Session, ref: string | number | undefined, err: ChatError): void {
    this.chat.stats.errors++;
    this.sendError(session, ref, err.toBody());
  }

  private sendError(session: Session, ref: string | number | undefined, error: { code: string; message: string }): void {
    if (ref !== undefined) session.sendJson({ op: 'reply', ref, ok: false, error });
    else session.sendJson({ op: 'error', error });
  }
}

import { CloseCode, decodeBinaryFrame, type BinaryHeader, type ClientRequest } from '@roomcast/protocol';
import { refOf, validateBinaryHeader, validateRequest } from '@roomcast/protocol/validate';
import type { ChatConfig } from './config.js';
import { RequestContext, type Failures } from './context.js';
import type { HandlerDeps } from './deps.js';
import { ChatError } from './errors.js';
import { holdsNul, type ResumeBudgets } from './limits.js';
import type { Logger } from './logger.js';
import { HANDLERS, sendBinary } from './ops.js';
import type { Session } from './session.js';
import type { ChatStats } from './stats.js';
import type { Work } from './work.js';

export interface IntakeDeps {
  config: ChatConfig;
  stats: ChatStats;
  log: Logger;
  now: () => number;
  work: Work;
  failures: Failures;
  /** What the request handlers get. */
  handlers: HandlerDeps;
  /** Resume bursts reserved at `welcome`, spent here once the connection's bucket is empty. */
  resume: ResumeBudgets;
}

const textDecoder = new TextDecoder('utf-8');

/** A flood: this many frames refused for the rate within one second, times the burst, closes the connection. */
const FLOOD_FACTOR = 10;

/** Per-connection bookkeeping of refusals. */
interface Refusals {
  /** Start of the current one-second window, ms. */
  windowStart: number;
  inWindow: number;
  /** Last time a `rate_limited` error without ref was sent, ms. */
  lastNotice: number;
}

/** A JSON string escape for U+0000: PostgreSQL cannot store it in text, and no chat needs it. */
const NUL_ESCAPE = '\\u0000';

/**
 * Frames in: rate-limit (every frame, before it is parsed), bound the size, parse, validate
 * against the precompiled schemas, then hand each request to its handler in the connection's
 * order. Every failure becomes a `reply` or an `error`; none becomes `internal`.
 */
export class FrameIntake {
  private readonly refusals = new WeakMap<Session, Refusals>();
  /** Largest text frame: a maximal text plus room for the other fields and `meta`. */
  private readonly maxTextFrame: number;
  /** Made once: a flood would otherwise build an Error (and its stack) per refused frame. */
  private readonly rateLimited: ChatError;

  constructor(private readonly d: IntakeDeps) {
    this.maxTextFrame = d.config.maxText * 4 + 16 * 1024;
    this.rateLimited = new ChatError('rate_limited', `too many frames: the limit is ${d.config.ratePerSec} a second; slow down and retry`);
  }

  /** A text frame: rate-limit, parse, validate, then run in the session's order. */
  text(session: Session, data: Uint8Array): void {
    if (!session.conn.isOpen) return; // closing: what it sends now is not answered
    this.d.stats.framesIn++;
    if (!this.allow(session, data, false)) return;
    if (data.byteLength > this.maxTextFrame) {
      this.reject(session, undefined, new ChatError('too_large', `a text frame may have ${this.maxTextFrame} bytes; this one has ${data.byteLength}. Long texts are limited to ${this.d.config.maxText} characters`));
      return;
    }
    const json = textDecoder.decode(data);
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      this.reject(session, undefined, new ChatError('bad_request', 'the frame is not valid JSON; send one JSON object per text frame'));
      return;
    }
    const ref = refOf(value);
    if (json.includes(NUL_ESCAPE) && holdsNul(value)) {
      this.reject(session, ref, new ChatError('bad_request', 'the frame contains the NUL character (\\u0000), which no field may hold; remove it'));
      return;
    }
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
    this.d.stats.framesIn++;
    if (!this.allow(session, data, true)) return;
    const decoded = decodeBinaryFrame(data);
    const ref = decoded.ok ? refOf(decoded.header) : undefined;
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
    if (holdsNul(header)) {
      this.reject(session, ref, new ChatError('bad_request', 'the binary header contains the NUL character (\\u0000), which no field may hold; remove it'));
      return;
    }
    const payload = decoded.payload;
    if (payload.byteLength === 0) {
      this.reject(session, ref, new ChatError('bad_request', 'the binary frame has no payload after its header'));
      return;
    }
    if (payload.byteLength > this.d.config.maxBinary) {
      this.reject(session, ref, new ChatError('too_large', `the payload is ${payload.byteLength} bytes; the limit is ${this.d.config.maxBinary}`));
      return;
    }
    const ctx = new RequestContext(session, ref, header.op, this.d.failures);
    session.enqueue(() => this.run(ctx, () => sendBinary(this.d.handlers, ctx, header, payload)));
  }

  private refusalsOf(session: Session): Refusals {
    let r = this.refusals.get(session);
    if (!r) this.refusals.set(session, (r = { windowStart: 0, inWindow: 0, lastNotice: -Infinity }));
    return r;
  }

  /**
   * Takes the frame's token before anything else is done with it. A refused frame is answered
   * `rate_limited` (with its ref when it has one, which means parsing it; otherwise at most once
   * a second), and a connection refused ten bursts' worth of frames within a second is closed:
   * nobody paces like that by accident. A connection's resume burst (reserved at welcome, see
   * ResumeBudgets) is spent only once its own bucket is empty, and counts every frame alike:
   * the ops are not known before parsing, and the frame count is what bounds the cost.
   */
  private allow(session: Session, data: Uint8Array, binary: boolean): boolean {
    const now = this.d.now();
    if (session.bucket.take(now) || this.d.resume.take(session, now)) return true;
    this.d.stats.rateLimited++;
    const r = this.refusalsOf(session);
    if (now - r.windowStart >= 1000) {
      r.windowStart = now;
      r.inWindow = 0;
    }
    if (++r.inWindow > FLOOD_FACTOR * Math.max(1, this.d.config.ratePerSec * 2)) {
      this.d.log.info({ session: session.id, refused: r.inWindow }, 'closing a connection that floods frames');
      session.conn.close(CloseCode.TooManyConnections, `too many frames: far more than ${this.d.config.ratePerSec} a second; slow down before reconnecting`, true);
      return false;
    }
    const ref = this.refOfRefused(data, binary);
    if (ref !== undefined || now - r.lastNotice >= 1000) {
      if (ref === undefined) r.lastNotice = now;
      this.reject(session, ref, this.rateLimited);
    }
    return false;
  }

  /** The ref of a refused frame, so its sender's request can fail; junk has none. */
  private refOfRefused(data: Uint8Array, binary: boolean): string | number | undefined {
    if (binary) {
      const decoded = decodeBinaryFrame(data);
      return decoded.ok ? refOf(decoded.header) : undefined;
    }
    // Only something that starts like a JSON object can carry a ref.
    if (data.byteLength > this.maxTextFrame || data[0] !== 0x7b) return undefined;
    try {
      return refOf(JSON.parse(textDecoder.decode(data)));
    } catch {
      return undefined;
    }
  }

  private dispatch(session: Session, req: ClientRequest): void {
    const ctx = new RequestContext(session, req.ref, req.op, this.d.failures);
    const handler = HANDLERS[req.op] as (d: HandlerDeps, ctx: RequestContext, req: ClientRequest) => Promise<void>;
    session.enqueue(() => this.run(ctx, () => handler(this.d.handlers, ctx, req)));
  }

  private async run(ctx: RequestContext, task: () => Promise<void>): Promise<void> {
    if (ctx.session.closed) return;
    try {
      await this.d.work.track(task());
    } catch (err) {
      ctx.fail(err);
    }
  }

  private reject(session: Session, ref: string | number | undefined, err: ChatError): void {
    this.d.failures.reject(session, ref, err);
  }
}

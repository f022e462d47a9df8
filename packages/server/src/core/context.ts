import type { ErrorBody } from '@roomcast/protocol';
import { ChatError, toErrorBody } from './errors.js';
import type { Logger } from './logger.js';
import type { Session } from './session.js';
import type { ChatStats } from './stats.js';

/** Unexpected failures of one connection are logged at most this often (the rest are counted). */
const ERROR_LOG_EVERY_MS = 10_000;

/**
 * How failed requests are told: a `reply` when the request had a ref, else an `error` event.
 * Failures the client could not have caused are logged, at most once per ten seconds per
 * connection, so a client repeating one cannot flood the log.
 */
export class Failures {
  private readonly logged = new WeakMap<Session, { at: number; unlogged: number }>();

  constructor(
    private readonly stats: ChatStats,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** A request failed while being handled (anything thrown). */
  report(ctx: RequestContext, err: unknown): void {
    const { body, unexpected } = toErrorBody(err);
    if (unexpected) this.logFailure(ctx, err);
    this.stats.errors++;
    this.send(ctx.session, ctx.ref, body);
  }

  /** A frame refused before it was handled (invalid, too big, over the rate). */
  reject(session: Session, ref: string | number | undefined, err: ChatError): void {
    this.stats.errors++;
    this.send(session, ref, err.toBody());
  }

  private send(session: Session, ref: string | number | undefined, error: ErrorBody): void {
    if (ref !== undefined) session.sendJson({ op: 'reply', ref, ok: false, error });
    else session.sendJson({ op: 'error', error });
  }

  private logFailure(ctx: RequestContext, err: unknown): void {
    const now = this.now();
    let last = this.logged.get(ctx.session);
    if (!last) this.logged.set(ctx.session, (last = { at: -Infinity, unlogged: 0 }));
    if (now - last.at < ERROR_LOG_EVERY_MS) {
      last.unlogged++;
      return;
    }
    const unlogged = last.unlogged;
    last.at = now;
    last.unlogged = 0;
    this.log.error({ err, op: ctx.op, session: ctx.session.id, ...(unlogged > 0 ? { unloggedSince: unlogged } : {}) }, 'request failed');
  }
}

/** One request being handled: where its reply, ok or not, goes. */
export class RequestContext {
  constructor(
    readonly session: Session,
    readonly ref: string | number | undefined,
    readonly op: string,
    private readonly failures: Failures,
  ) {}

  /** Sends the ok reply (only requests with a `ref` get one). */
  ok(fields: object = {}): void {
    if (this.ref !== undefined) this.session.sendJson({ op: 'reply', ref: this.ref, ok: true, ...fields });
  }

  /** Reports the request's failure (for work that finishes after the handler returned). */
  fail(err: unknown): void {
    this.failures.report(this, err);
  }
}

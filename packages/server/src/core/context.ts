import type { Session } from './session.js';

/** One request being handled: where its reply goes. */
export class RequestContext {
  constructor(
    readonly session: Session,
    readonly ref: string | number | undefined,
    readonly op: string,
  ) {}

  /** Sends the ok reply (only requests with a `ref` get one). */
  ok(fields: object = {}): void {
    if (this.ref !== undefined) this.session.sendJson({ op: 'reply', ref: this.ref, ok: true, ...fields });
  }
}

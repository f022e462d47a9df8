import { ChatError } from './errors.js';
import type { Logger } from './logger.js';

// The message gate: what a text message or an edit passes through before it is stored (the
// built-in filter, the moderation hook, an in-process `beforeMessage`). Verdicts may come back in
// any order; each room's messages still reach the store in the order they reached the gate.

/** A message or an edit on its way to the store. */
export interface GateInput {
  kind: 'message' | 'edit';
  room: string;
  from: { id: string; name: string };
  text: string;
  meta?: Record<string, unknown>;
  /** For an edit: the seq of the message edited. */
  seq?: number;
  /** A direct conversation (`dm`). */
  direct: boolean;
}

export type GateVerdict = { action: 'allow' } | { action: 'reject'; reason: string } | { action: 'replace'; text: string };

/** Says what becomes of a message; throwing a ChatError refuses it with that error. */
export type BeforeMessage = (input: GateInput) => GateVerdict | Promise<GateVerdict>;

const ALLOW: GateVerdict = { action: 'allow' };
/** Posts one room may have waiting in the gate; past it a post is refused with `unavailable`. */
export const MAX_WAITING_PER_ROOM = 1000;

/**
 * What is wrong with a gate's replacement text, checked like a client's text (not empty, no
 * U+0000, at most --max-text UTF-16 units), or null when it can be stored. One check for the hook
 * URL and the in-process gate.
 */
export function replacementProblem(text: unknown, maxText: number): string | null {
  if (typeof text !== 'string' || text.trim() === '') return 'a replace answer needs a non-empty "text"';
  if (text.includes('\u0000')) return 'the replacement contains the NUL character (U+0000)';
  if (text.length > maxText) return `the replacement is longer than --max-text (${maxText})`;
  return null;
}
const ALLOWED: Promise<GateVerdict> = Promise.resolve(ALLOW);

/**
 * Runs gates one after another, each seeing the text the one before let through; the first reject
 * ends it. Synchronous gates (the filter) stay synchronous: no promise unless one returns one.
 */
export function chainGates(gates: readonly BeforeMessage[]): BeforeMessage | undefined {
  if (gates.length === 0) return undefined;
  if (gates.length === 1) return gates[0];
  return (input) => step(gates, 0, input, input.text);
}

function step(gates: readonly BeforeMessage[], i: number, input: GateInput, original: string): GateVerdict | Promise<GateVerdict> {
  for (; i < gates.length; i++) {
    const v = (gates[i] as BeforeMessage)(input);
    if (isPromise(v)) {
      const next = i + 1;
      return v.then((r) => (r.action === 'reject' ? r : step(gates, next, withText(input, r), original)));
    }
    if (v.action === 'reject') return v;
    input = withText(input, v);
  }
  return input.text === original ? ALLOW : { action: 'replace', text: input.text };
}

function withText(input: GateInput, v: GateVerdict): GateInput {
  return v.action === 'replace' ? { ...input, text: v.text } : input;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/**
 * Holds each room's posts in arrival order: every post's verdict is asked for at once (so a slow
 * hook answers many in parallel), and each is released to the store only after the one before it
 * in the same room was released. `release` must start its store append before its first await.
 */
export class MessageGate {
  /** Per room, the turn of the latest post: resolved once that post was released (or refused). */
  private readonly tails = new Map<string, Promise<void>>();
  /** Per room, the posts passed and not yet released or refused. */
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly check: BeforeMessage,
    private readonly maxText: number,
    private readonly log: Logger,
  ) {}

  /**
   * Passes one post: `input` null (binary messages, reactions, unsends) is not checked but keeps
   * its place in the room's order. Rejects with `rejected` (the verdict's reason) or the gate's error.
   */
  pass<T>(room: string, input: GateInput | null, release: (text: string | undefined) => Promise<T>): Promise<T> {
    const count = this.counts.get(room) ?? 0;
    if (count >= MAX_WAITING_PER_ROOM) {
      return Promise.reject(new ChatError('unavailable', `${MAX_WAITING_PER_ROOM} messages of this room are already waiting for moderation; retry in a moment`));
    }
    this.counts.set(room, count + 1);
    const verdict = input ? this.ask(input) : ALLOWED;
    // A refusal may come before the room's earlier posts are released: handled then, not unhandled now.
    verdict.catch(() => {});
    const before = this.tails.get(room);
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    this.tails.set(room, turn);
    const finish = (): void => {
      done();
      const left = (this.counts.get(room) ?? 1) - 1;
      if (left > 0) this.counts.set(room, left);
      else this.counts.delete(room);
      if (this.tails.get(room) === turn) this.tails.delete(room);
    };
    const ready = before ? before.then(() => verdict) : verdict;
    return ready.then(
      (v) => {
        try {
          if (v.action === 'reject') throw new ChatError('rejected', v.reason);
          return release(v.action === 'replace' ? v.text : undefined);
        } finally {
          finish();
        }
      },
      (err: unknown) => {
        finish();
        throw err;
      },
    );
  }

  /** Rooms with posts waiting (for tests: an empty gate holds nothing). */
  get waiting(): number {
    return this.tails.size;
  }

  private async ask(input: GateInput): Promise<GateVerdict> {
    let v: GateVerdict;
    try {
      v = await this.check(input);
    } catch (err) {
      if (err instanceof ChatError) throw err;
      this.log.warn({ err, room: input.room }, 'beforeMessage threw; the message was refused');
      throw new ChatError('unavailable', 'the moderation check failed on this message; retry in a moment');
    }
    return this.checked(v, input);
  }

  /** A verdict the store can act on, or a refusal that says the gate answered wrongly. */
  private checked(v: GateVerdict, input: GateInput): GateVerdict {
    const action = (v as { action?: unknown } | null)?.action;
    if (action === 'allow') return ALLOW;
    if (action === 'reject') {
      const reason = (v as { reason?: unknown }).reason;
      return { action: 'reject', reason: typeof reason === 'string' && reason.trim() !== '' ? reason : 'the message was refused by moderation' };
    }
    if (action === 'replace') {
      const text = (v as { text?: unknown }).text;
      if (replacementProblem(text, this.maxText) === null) return text === input.text ? ALLOW : { action: 'replace', text: text as string };
    }
    this.log.warn({ room: input.room, verdict: String(action) }, 'beforeMessage answered with an unusable verdict; the message was refused');
    throw new ChatError('unavailable', 'the moderation check gave an answer the server cannot use; retry in a moment');
  }
}

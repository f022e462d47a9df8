import http from 'node:http';
import https from 'node:https';
import { signBody, SIGNATURE_HEADER } from '../auth/signature.js';
import { ChatError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { replacementProblem, type BeforeMessage, type GateInput, type GateVerdict } from '../core/message-gate.js';

// The moderation hook (--hook-url): each text message and edit is POSTed to the app's backend,
// which answers allow, reject or replace. A hook that is slow, down or answers nonsense is a
// failure, and --hook-fail says what then: open lets the message through, closed refuses it.

export interface HookOptions {
  url: string;
  /** Signs each request (X-Roomcast-Signature) when not empty. */
  secret: string;
  timeoutMs: number;
  fail: 'open' | 'closed';
  /** A replacement longer than this (UTF-16 units) is a failure. */
  maxText: number;
  log: Logger;
  /** Requests in flight at once; more wait for a connection (their timeout runs meanwhile). */
  maxSockets?: number;
}

/** Largest answer read, bytes. */
export const MAX_HOOK_ANSWER = 64 * 1024;
/** At most one failure line in the log per this long, ms. */
const LOG_EVERY_MS = 10_000;

/** Why one hook call failed: logged, never shown to the sender. */
class HookFailure extends Error {}

export class HookClient {
  /** Failures since start (for tests and stats). */
  failures = 0;
  private unlogged = 0;
  private lastLog = 0;
  private readonly target: URL;
  private readonly agent: http.Agent;

  constructor(private readonly o: HookOptions) {
    this.target = new URL(o.url);
    // Keep-alive: a message is a request on an open connection, not a TCP (and TLS) handshake.
    const Agent = this.target.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 64 });
  }

  /** The hook as a gate of the chain. */
  get gate(): BeforeMessage {
    return (input) => this.check(input);
  }

  async check(input: GateInput): Promise<GateVerdict> {
    try {
      return await this.call(input);
    } catch (err) {
      return this.failed(err as Error, input);
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private failed(err: Error, input: GateInput): GateVerdict {
    this.failures++;
    this.unlogged++;
    const now = Date.now();
    if (now - this.lastLog >= LOG_EVERY_MS) {
      const what = this.o.fail === 'open' ? 'letting messages through' : 'refusing messages';
      this.o.log.warn({ failures: this.unlogged, room: input.room, reason: err.message }, `moderation hook failed; ${what} (--hook-fail ${this.o.fail})`);
      this.lastLog = now;
      this.unlogged = 0;
    }
    if (this.o.fail === 'open') return { action: 'allow' };
    throw new ChatError('unavailable', 'the moderation service did not answer, so the message was not sent; retry in a moment');
  }

  private call(input: GateInput): Promise<GateVerdict> {
    const payload: Record<string, unknown> = { type: input.kind, room: input.room, from: input.from, text: input.text };
    if (input.meta !== undefined) payload.meta = input.meta;
    if (input.seq !== undefined) payload.seq = input.seq;
    payload.direct = input.direct;
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (this.o.secret) headers[SIGNATURE_HEADER] = signBody(this.o.secret, body);
    const request = this.target.protocol === 'https:' ? https.request : http.request;
    return new Promise<GateVerdict>((resolve, reject) => {
      // Settles exactly once, whatever the socket does after: a hook call never hangs a room's queue.
      let timer: NodeJS.Timeout | undefined;
      const settle = (err: Error | null, v?: GateVerdict): void => {
        if (timer === undefined) return;
        clearTimeout(timer);
        timer = undefined;
        if (err) {
          req.destroy();
          reject(err);
        } else {
          resolve(v as GateVerdict);
        }
      };
      const req = request(this.target, { method: 'POST', agent: this.agent, headers }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_HOOK_ANSWER) settle(new HookFailure(`the answer is over ${MAX_HOOK_ANSWER} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (status < 200 || status > 299) return settle(new HookFailure(`HTTP ${status}`));
          try {
            settle(null, this.verdictOf(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            settle(err as Error);
          }
        });
        res.on('error', (err) => settle(err));
        res.on('close', () => settle(new HookFailure('the connection closed in the middle of the answer')));
      });
      timer = setTimeout(() => settle(new HookFailure(`no answer within ${this.o.timeoutMs} ms (--hook-timeout)`)), this.o.timeoutMs);
      req.on('error', (err) => settle(err));
      req.on('close', () => settle(new HookFailure('the connection closed before an answer')));
      req.end(body);
    });
  }

  /** The answer as a verdict, or a HookFailure saying what is wrong with it. */
  private verdictOf(text: string): GateVerdict {
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new HookFailure('the answer is not JSON');
    }
    const a = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
    if (a.action === 'allow') return { action: 'allow' };
    if (a.action === 'reject') {
      const reason = typeof a.reason === 'string' && a.reason.trim() !== '' ? a.reason.slice(0, 500) : 'the message was refused by moderation';
      return { action: 'reject', reason };
    }
    if (a.action === 'replace') {
      const problem = replacementProblem(a.text, this.o.maxText);
      if (problem) throw new HookFailure(problem);
      return { action: 'replace', text: a.text as string };
    }
    throw new HookFailure('the answer is not {"action":"allow"}, {"action":"reject","reason":…} or {"action":"replace","text":…}');
  }
}

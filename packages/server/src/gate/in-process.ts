import { ChatError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { replacementProblem, type BeforeMessage, type GateVerdict } from '../core/message-gate.js';

// The embedder's in-process beforeMessage (library mode), held to the hook URL's rules: it has
// --hook-timeout to answer, and one that is late, throws (other than a ChatError, which refuses
// the message on purpose) or answers a verdict the store cannot use is a failure that --hook-fail
// settles: open lets the text it was given through, closed refuses it with `unavailable`. A late
// answer is ignored, so a promise that never settles cannot hold the room's queue.

export interface InProcessOptions {
  timeoutMs: number;
  fail: 'open' | 'closed';
  maxText: number;
  log: Logger;
}

/** At most one failure line in the log per this long, ms. */
const LOG_EVERY_MS = 10_000;

export function limitInProcess(gate: BeforeMessage, o: InProcessOptions): BeforeMessage {
  let lastLog = 0;
  let unlogged = 0;
  const failed = (room: string, why: string): GateVerdict => {
    unlogged++;
    const now = Date.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      const what = o.fail === 'open' ? 'letting messages through' : 'refusing messages';
      o.log.warn({ failures: unlogged, room, reason: why }, `beforeMessage failed; ${what} (--hook-fail ${o.fail})`);
      lastLog = now;
      unlogged = 0;
    }
    if (o.fail === 'open') return { action: 'allow' };
    throw new ChatError('unavailable', 'the moderation check did not answer in time or answered wrongly, so the message was not sent; retry in a moment');
  };
  return async (input) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), o.timeoutMs)));
    let v: GateVerdict | 'late';
    try {
      v = await Promise.race([Promise.resolve().then(() => gate(input)), late]);
    } catch (err) {
      if (err instanceof ChatError) throw err;
      return failed(input.room, `it threw: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      clearTimeout(timer);
    }
    if (v === 'late') return failed(input.room, `no answer within ${o.timeoutMs} ms (--hook-timeout)`);
    const action = (v as { action?: unknown } | null)?.action;
    if (action === 'allow' || action === 'reject') return v;
    if (action === 'replace') {
      const problem = replacementProblem((v as { text?: unknown }).text, o.maxText);
      return problem ? failed(input.room, problem) : v;
    }
    return failed(input.room, `the verdict is not allow, reject or replace (${String(action)})`);
  };
}

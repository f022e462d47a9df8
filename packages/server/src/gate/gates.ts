import { ConfigError, type ServerConfig } from '../config.js';
import type { Logger } from '../core/logger.js';
import { chainGates, type BeforeMessage } from '../core/message-gate.js';
import { MessageFilter } from './filter.js';
import { PatternError } from './filter-patterns.js';
import { HookClient } from './hook-client.js';
import { limitInProcess } from './in-process.js';

// The message gate as configured: the built-in filter, then the hook URL, then the embedder's
// in-process beforeMessage, chained into the one function the core takes. The hook and the
// in-process one see the text the filter let through; each has --hook-timeout, and --hook-fail
// says what a failure of any of them (the filter's file: expressions included) means.

export interface Gates {
  /** Absent when nothing is configured: the core's send path stays as it is. */
  beforeMessage: BeforeMessage | undefined;
  /** Reads the filter's lists again (SIGHUP); a bad list keeps the old ones, and is logged. */
  reload(): void;
  /** Closes the hook's kept-alive connections and the filter's regex worker. */
  close(): void;
}

type GateConfig = Pick<ServerConfig, 'hookUrl' | 'hookSecret' | 'hookTimeoutMs' | 'hookFail' | 'filterWords' | 'filterPatterns' | 'filterMode' | 'maxText'>;

/** Throws ConfigError when a list cannot be loaded at start. */
export function buildGates(c: GateConfig, log: Logger, inProcess?: BeforeMessage): Gates {
  let filter: MessageFilter | null = null;
  if (c.filterWords || c.filterPatterns) {
    try {
      filter = new MessageFilter({ wordsFile: c.filterWords, patterns: c.filterPatterns, mode: c.filterMode, fail: c.hookFail, log });
    } catch (err) {
      if (err instanceof PatternError) throw new ConfigError(err.message);
      throw err;
    }
    reportSkipped(filter, c.filterWords, log);
  }
  const hook = c.hookUrl ? new HookClient({ url: c.hookUrl, secret: c.hookSecret, timeoutMs: c.hookTimeoutMs, fail: c.hookFail, maxText: c.maxText, log }) : null;
  const chain: BeforeMessage[] = [];
  if (filter) chain.push(filter.gate);
  if (hook) chain.push(hook.gate);
  if (inProcess) chain.push(limitInProcess(inProcess, { timeoutMs: c.hookTimeoutMs, fail: c.hookFail, maxText: c.maxText, log }));
  return {
    beforeMessage: chainGates(chain),
    reload() {
      if (!filter) return;
      try {
        filter.reload();
        log.info({ words: filter.words }, 'filter lists reloaded');
        reportSkipped(filter, c.filterWords, log);
      } catch (err) {
        log.error({ reason: (err as Error).message }, 'filter lists not reloaded: the lists loaded before stay in use; fix the file and send SIGHUP again');
      }
    },
    close() {
      hook?.close();
      filter?.close();
    },
  };
}

function reportSkipped(filter: MessageFilter, file: string, log: Logger): void {
  for (const s of filter.skipped.slice(0, 20)) log.warn({ file, line: s.line }, `--filter-words: line skipped: ${s.why}`);
}

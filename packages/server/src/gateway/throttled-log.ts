import type { Logger } from '../core/logger.js';

type Level = 'info' | 'warn' | 'error';

/**
 * At most one log line per key and interval. A flood of refused sockets must not become a flood
 * of log lines (that would be the next resource it exhausts); each line counts what it left out.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 10_000,
  ) {}

  write(level: Level, key: string, fields: object, msg: string): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.everyMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    this.log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  }
}

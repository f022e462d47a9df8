import { readFileSync } from 'node:fs';

/** Used where the limit cannot be read (not Linux, or no /proc). */
export const FALLBACK_FD_LIMIT = 10_000;
/** File descriptors kept for the database, logs and the process's own needs. */
export const FD_RESERVE = 256;
/** Connections kept below the cap for HTTP (/healthz, /readyz) when WebSockets fill it. */
export const HTTP_RESERVE = 32;
/** The least the derived cap falls to, however low the descriptor limit. */
const MIN_CONNECTIONS = 64;

/**
 * The soft RLIMIT_NOFILE of this process: the "Max open files" row of /proc/self/limits on Linux.
 * Node has no API for it; anything unreadable or "unlimited" gives the fallback.
 */
export function fileDescriptorLimit(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return FALLBACK_FD_LIMIT;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  const soft = m && m[1] !== 'unlimited' ? Number(m[1]) : NaN;
  return Number.isSafeInteger(soft) && soft > 0 ? soft : FALLBACK_FD_LIMIT;
}

/** --max-connections as applied: 0 means the descriptor limit minus the reserve. */
export function effectiveMaxConnections(configured: number, fdLimit = fileDescriptorLimit()): number {
  if (configured > 0) return configured;
  return Math.max(MIN_CONNECTIONS, fdLimit - FD_RESERVE);
}

/**
 * Open WebSockets allowed under a connection cap: 32 short of it, so HTTP still gets through
 * when WebSockets fill it (half of it for caps under 64, so a small cap admits WebSockets at all).
 */
export function webSocketLimit(maxConnections: number): number {
  return maxConnections - Math.min(HTTP_RESERVE, Math.floor(maxConnections / 2));
}

// CPU time and memory of a process, from /proc (Linux).
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second for /proc/PID/stat; 100 on every Linux this runs on. */
const CLK_TCK = 100;

/** User + system CPU seconds a process has used so far (all its threads), or null. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size in bytes (VmRSS), or null. */
export function rssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Per-core busy time (user + nice + system) in seconds, from /proc/stat; [] when unreadable. */
export function coreBusySeconds() {
  try {
    const out = [];
    for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
      const m = /^cpu(\d+) (\d+) (\d+) (\d+)/.exec(line);
      if (m) out[Number(m[1])] = (Number(m[2]) + Number(m[3]) + Number(m[4])) / CLK_TCK;
    }
    return out;
  } catch {
    return [];
  }
}

/** A CPU meter over a window: start(), then stop() gives seconds used and the share of one core. */
export class CpuWindow {
  constructor(pid) {
    this.pid = pid;
    this.cpu0 = 0;
    this.t0 = 0;
  }
  start() {
    this.cpu0 = cpuSeconds(this.pid) ?? NaN;
    this.t0 = performance.now();
  }
  stop() {
    const cpu = (cpuSeconds(this.pid) ?? NaN) - this.cpu0;
    const wall = (performance.now() - this.t0) / 1000;
    return { cpuS: cpu, wallS: wall, pct: (100 * cpu) / wall };
  }
}

/**
 * CPU seconds of a process and all its descendants alive right now (PostgreSQL: the postmaster
 * and its backends), or null when the root is gone. Reads /proc/PID/stat of every process.
 */
export function treeCpuSeconds(/** @type {number} */ root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  /** @type {Map<number, number>} */
  const cpu = new Map();
  let pids;
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const d of pids) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(d);
      const ppid = Number(fields[1]);
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
      const list = children.get(ppid);
      if (list) list.push(pid);
      else children.set(ppid, [pid]);
    } catch {} // the process ended meanwhile
  }
  if (!cpu.has(root)) return null;
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = /** @type {number} */ (todo.pop());
    total += cpu.get(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

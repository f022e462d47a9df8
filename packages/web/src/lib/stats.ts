// The admin page's numbers: /api/stats polled once a second; messages per second from the
// difference between two polls.

export interface ServerStats {
  connections: number;
  onlineUsers: number;
  rooms: number;
  roomsStored?: number;
  messagesIn: number;
  messagesOut: number;
  errors?: number;
  uptimeSec?: number;
}

export interface Sample {
  at: number;
  messagesIn: number;
}

/** Messages per second between two samples (0 across a server restart, when counters reset). */
export function rate(prev: Sample | null, cur: Sample): number {
  if (!prev) return 0;
  const dt = (cur.at - prev.at) / 1000;
  const dm = cur.messagesIn - prev.messagesIn;
  if (dt <= 0 || dm < 0) return 0;
  return dm / dt;
}

/** SVG points for a series in a width×height box, with a floor of `minMax` for the scale. */
export function chartPoints(values: readonly number[], width: number, height: number, slots: number, minMax = 1): { line: string; area: string; max: number } {
  const max = Math.max(minMax, ...values);
  const step = width / Math.max(1, slots - 1);
  const offset = (slots - values.length) * step;
  const pts = values.map((v, i) => `${(offset + i * step).toFixed(1)},${(height - (v / max) * (height - 4)).toFixed(1)}`);
  const line = pts.join(' ');
  const area = values.length ? `${offset.toFixed(1)},${height} ${line} ${(offset + (values.length - 1) * step).toFixed(1)},${height}` : '';
  return { line, area, max };
}

export function uptime(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return `${m}m ${sec % 60}s`;
}

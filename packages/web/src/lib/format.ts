// Dates and sizes for the message list, in the UI's language.

export function sameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

export function timeOf(ts: number, locale: string): string {
  return new Date(ts).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}

/** The time for today's messages, else the date (search hits). */
export function whenShort(ts: number, locale: string, now = Date.now()): string {
  if (sameDay(ts, now)) return timeOf(ts, locale);
  return new Date(ts).toLocaleDateString(locale, { month: 'short', day: 'numeric' });
}

/** "Today", "Yesterday", or a full date, for day separators. */
export function dayLabel(ts: number, locale: string, words: { today: string; yesterday: string }, now = Date.now()): string {
  if (sameDay(ts, now)) return words.today;
  if (sameDay(ts, now - 86_400_000)) return words.yesterday;
  const d = new Date(ts);
  const thisYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(locale, thisYear ? { month: 'long', day: 'numeric', weekday: 'short' } : { year: 'numeric', month: 'long', day: 'numeric' });
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** One or two letters for an avatar: the first letter of the first two words ("Dana (ops)" → "DO"). */
export function initials(name: string): string {
  const letters = name
    .trim()
    .split(/[\s._-]+/)
    .map((w) => Array.from(w).find((c) => /[\p{L}\p{N}]/u.test(c)))
    .filter((c): c is string => c !== undefined);
  if (letters.length === 0) return '?';
  return letters.slice(0, 2).join('').toUpperCase();
}

/** A stable hue per user id, for avatars and names. */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 360;
}

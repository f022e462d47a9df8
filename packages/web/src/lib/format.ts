// Dates and sizes for the message list, in the UI's language.

export function sameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

export function timeOf(ts: number, locale: string): string {
  return new Date(ts).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}

/** The date and time in full ("Tuesday, December 1, 2026 at 5:30 PM"), for titles and screen readers. */
export function fullDate(ts: number, locale: string): string {
  return new Date(ts).toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short' });
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

/** WCAG relative luminance of an HSL colour (s, l in 0..1). */
function luminance(h: number, s: number, l: number): number {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const c = l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(8) + 0.0722 * channel(4);
}

/**
 * A user's colour at most as bright as `maxLuminance`: HSL lightness alone is not contrast
 * (yellow at 40% is far lighter than blue at 40%), so each hue gets the lightest shade that is
 * still dark enough. 0.17 keeps white text on it at 4.7:1 (avatars), 0.15 keeps it at 4.9:1 as
 * text on the page's background (sender names): WCAG AA for small text.
 */
export function userColor(id: string, maxLuminance: number): string {
  const h = hueOf(id);
  let lo = 0;
  let hi = 60;
  // Luminance grows with lightness below 50%: bisect to a tenth of a percent.
  while (hi - lo > 0.1) {
    const mid = (lo + hi) / 2;
    if (luminance(h, 0.55, mid / 100) <= maxLuminance) lo = mid;
    else hi = mid;
  }
  return `hsl(${h} 55% ${lo.toFixed(1)}%)`;
}

/** A stable hue per user id, for avatars and names. */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 360;
}

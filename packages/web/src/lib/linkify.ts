// Splits message text into plain-text and link tokens. The UI renders each token as a text node
// or an <a> element, so nothing a user typed is ever interpreted as HTML.

export type Token = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// http(s) URLs and bare www. hosts; the match stops at whitespace and at characters that
// cannot start or end a URL in running text.
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
// Closing punctuation that usually belongs to the sentence, not to the URL.
const TRAILING = /[.,;:!?)\]}'"。，；：！？）》」』]+$/;

/** The text as tokens; links are only http(s), so `javascript:` and friends stay text. */
export function linkify(text: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const start = m.index ?? 0;
    // Keep a closing parenthesis that has its opening one inside the URL (wiki links).
    const trail = TRAILING.exec(url);
    if (trail) {
      let cut = trail[0];
      if (cut.startsWith(')') && url.includes('(')) cut = cut.slice(1);
      url = url.slice(0, url.length - cut.length);
    }
    if (url.length < 5 || /^www\.$/i.test(url)) continue;
    const href = /^www\./i.test(url) ? `https://${url}` : url;
    if (!isSafeHref(href)) continue;
    if (start > last) out.push({ kind: 'text', text: text.slice(last, start) });
    out.push({ kind: 'link', text: url, href });
    last = start + url.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** Only absolute http(s) URLs that parse. */
export function isSafeHref(href: string): boolean {
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

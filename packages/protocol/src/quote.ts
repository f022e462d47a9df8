import { REPLY_QUOTE_LENGTH } from './constants.js';

/**
 * The start of a message's text a reply quotes: its first REPLY_QUOTE_LENGTH characters, counted
 * in code points so an emoji is never cut in half. Server and SDK both use it, so a quote read
 * back from the store and one made live are the same string.
 */
export function quoteText(text: string): string {
  let units = 0;
  for (let points = 0; points < REPLY_QUOTE_LENGTH && units < text.length; points++) {
    units += (text.codePointAt(units) ?? 0) > 0xffff ? 2 : 1;
  }
  return units >= text.length ? text : text.slice(0, units);
}

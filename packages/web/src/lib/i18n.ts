import { ref } from 'vue';
import { en, type Key } from './i18n-en.js';
import { zh } from './i18n-zh.js';

// Two languages, chosen from the browser and switchable; the choice is remembered.

export type Locale = 'en' | 'zh-CN';

export type { Key };

const dictionaries: Record<Locale, Record<Key, string>> = { en, 'zh-CN': zh };

const STORAGE_KEY = 'roomcast.locale';

/** The remembered choice, else the browser's first language we have. */
export function pickLocale(saved: string | null, languages: readonly string[]): Locale {
  if (saved === 'en' || saved === 'zh-CN') return saved;
  for (const l of languages) {
    const lower = l.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

function initial(): Locale {
  try {
    return pickLocale(localStorage.getItem(STORAGE_KEY), navigator.languages ?? [navigator.language]);
  } catch {
    return 'en';
  }
}

export const locale = ref<Locale>(initial());

export function setLocale(l: Locale): void {
  locale.value = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = l;
}

/**
 * A message in the current language, with `{name}` placeholders filled in. A key neither
 * dictionary has (`err.CODE` for a code the UI does not know yet) comes back as itself, for the
 * caller to notice (toasts.ts `errorText`), instead of throwing.
 */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = dictionaries[locale.value][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (k in params ? String(params[k]) : `{${k}}`));
}

export function translate(l: Locale, key: Key): string {
  return dictionaries[l][key];
}

import { reactive } from 'vue';
import { RoomcastError } from '@roomcast/client';
import { t, type Key } from './i18n.js';

// Notices in the corner: errors as a readable sentence (with the server's detail), and short
// confirmations. At most four at a time; each goes by itself.

export interface Toast {
  id: number;
  text: string;
  detail?: string | undefined;
  kind: 'error' | 'info';
}

export const toasts = reactive<Toast[]>([]);

let toastId = 0;

/** A readable sentence for an error code (`err.CODE` in i18n), with the message as its detail. */
export function errorText(err: unknown): { text: string; detail?: string } {
  if (err instanceof RoomcastError || (typeof err === 'object' && err !== null && 'code' in err)) {
    const e = err as { code: string; message: string };
    const key = `err.${e.code}` as Key;
    const known = t(key);
    if (known !== key && !known.startsWith('err.')) return { text: known, detail: e.message };
    return { text: e.message || t('err.generic') };
  }
  return { text: err instanceof Error ? err.message : t('err.generic') };
}

export function toast(text: string, detail?: string, kind: Toast['kind'] = 'error'): void {
  const id = ++toastId;
  toasts.push({ id, text, detail, kind });
  if (toasts.length > 4) toasts.shift();
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

export function toastError(err: unknown): void {
  const { text, detail } = errorText(err);
  toast(text, detail);
}

export function dismiss(id: number): void {
  const i = toasts.findIndex((x) => x.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

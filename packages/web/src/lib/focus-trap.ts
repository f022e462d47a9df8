import { onBeforeUnmount, onMounted, type Ref } from 'vue';

// Focus kept inside a modal dialog (WAI-ARIA "dialog (modal)" pattern): Tab and Shift+Tab wrap
// around its controls, focus that lands outside (a click on the page behind, a script) is brought
// back, Escape closes it, and on close focus returns to what opened it. Dialogs stack (a confirm
// over an invite dialog): only the top one acts.
//
// @example
// const box = ref<HTMLElement | null>(null);
// useFocusTrap(box, { onEscape: () => emit('close'), initial: () => cancelBtn.value });
// <div ref="box" role="dialog" aria-modal="true">…</div>

export interface FocusTrapOptions {
  /** Escape pressed in the dialog (or anywhere, while it is the top dialog). Default: nothing. */
  onEscape?: () => void;
  /** What gets focus first. Default: the element with `autofocus`, else the first control. */
  initial?: () => HTMLElement | null | undefined;
  /** Where focus goes when the dialog closes. Default: the element focused when it opened. */
  restore?: () => HTMLElement | null | undefined;
}

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  '[tabindex]:not([tabindex="-1"])',
  '[contenteditable="true"]',
].join(',');

/** The controls of `root` that Tab reaches, in order (hidden ones left out). */
export function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hidden && el.getClientRects().length > 0 && !el.closest('[inert]'));
}

interface Trap {
  root: () => HTMLElement | null;
  options: FocusTrapOptions;
}

/** Open dialogs, the top one last. */
const stack: Trap[] = [];
const top = (): Trap | undefined => stack[stack.length - 1];

function onKeydown(e: KeyboardEvent): void {
  const trap = top();
  const root = trap?.root();
  if (!trap || !root) return;
  if (e.key === 'Escape' && trap.options.onEscape) {
    // An open menu or suggestion list inside the dialog took its own Escape already.
    if (e.defaultPrevented) return;
    e.preventDefault();
    e.stopPropagation();
    trap.options.onEscape();
    return;
  }
  if (e.key !== 'Tab') return;
  const items = focusables(root);
  if (items.length === 0) {
    e.preventDefault();
    root.focus();
    return;
  }
  const first = items[0]!;
  const last = items[items.length - 1]!;
  const at = document.activeElement;
  if (e.shiftKey && (at === first || !root.contains(at))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (at === last || !root.contains(at))) {
    e.preventDefault();
    first.focus();
  }
}

function onFocusIn(e: FocusEvent): void {
  const root = top()?.root();
  const target = e.target;
  if (!root || !(target instanceof Node) || root.contains(target)) return;
  (focusables(root)[0] ?? root).focus();
}

function listen(on: boolean): void {
  const method = on ? 'addEventListener' : 'removeEventListener';
  // Keys bubble up from the dialog first, so a menu inside it can take its own Escape.
  document[method]('keydown', onKeydown as EventListener);
  document[method]('focusin', onFocusIn as EventListener, true);
}

/**
 * Traps focus in the element `root` refers to while the calling component is mounted. Call it
 * from a dialog's `<script setup>`; the element should carry `role="dialog"` and `aria-modal`.
 */
export function useFocusTrap(root: Ref<HTMLElement | null>, options: FocusTrapOptions = {}): void {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const trap: Trap = { root: () => root.value, options };
  onMounted(() => {
    if (stack.length === 0) listen(true);
    stack.push(trap);
    const el = root.value;
    if (!el) return;
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    const first = options.initial?.() ?? el.querySelector<HTMLElement>('[autofocus]') ?? focusables(el)[0] ?? el;
    first.focus();
  });
  onBeforeUnmount(() => {
    const i = stack.indexOf(trap);
    if (i >= 0) stack.splice(i, 1);
    if (stack.length === 0) listen(false);
    const back = options.restore?.() ?? opener;
    // After the dialog is gone (its own elements may hold focus until then).
    queueMicrotask(() => {
      if (back && back.isConnected) back.focus();
    });
  });
}

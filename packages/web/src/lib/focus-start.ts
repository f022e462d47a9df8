import { nextTick } from 'vue';

// Where focus goes once the app appears after signing in (the login form that held it is gone,
// which leaves focus on <body>): the composer of the open room on a wide screen (a phone would
// pop up its keyboard), else the room list, else the "New room" button, else the chat's back link.

const CANDIDATES = ['[data-testid="chat"] #composer-input', '.room-item[aria-current="page"]', '.room-groups .room-item', '[data-testid="new-room"]', '[data-testid="chat"] .back-btn', '[data-testid="join-refused"] h2'];

function visible(el: HTMLElement): boolean {
  return el.getClientRects().length > 0 && !el.closest('[inert]');
}

/** Focuses the first sensible place, unless something (a dialog, the composer) has focus already. */
export async function focusLanding(): Promise<void> {
  await nextTick();
  const at = document.activeElement;
  if (at && at !== document.body && at !== document.documentElement) return;
  const wide = window.innerWidth > 760;
  for (const sel of CANDIDATES) {
    if (!wide && sel.includes('composer')) continue;
    const el = document.querySelector<HTMLElement>(sel);
    if (el && visible(el)) {
      el.focus();
      return;
    }
  }
}

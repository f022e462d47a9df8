// Token `rooms` claims: room ids or glob patterns that let a user into private rooms.

/** Whether a room id matches one of a token's `rooms` entries (exact, or a glob with `*`). */
export function roomGranted(room: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p === room) return true;
    if (!p.includes('*')) continue;
    const re = new RegExp(`^${p.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (re.test(room)) return true;
  }
  return false;
}

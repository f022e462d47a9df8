// Request bodies of the room's moderation calls (`room.ban`, `room.mute`; see room.ts).

export interface BanOptions {
  /** When the ban ends, ms since epoch (or a Date); absent: until `unban`. */
  until?: number | Date;
  /** Why, shown to the room in the `moderation` event and kept with the ban. */
  reason?: string;
}

export interface MuteOptions {
  /** When the mute ends, ms since epoch (or a Date); absent: until `unmute`. */
  until?: number | Date;
}

const ms = (t: number | Date): number => (t instanceof Date ? t.getTime() : t);

export function banBody(room: string, user: string, o: BanOptions): Record<string, unknown> {
  return { op: 'ban', room, user, ...(o.until !== undefined ? { until: ms(o.until) } : {}), ...(o.reason !== undefined ? { reason: o.reason } : {}) };
}

export function muteBody(room: string, user: string, o: MuteOptions): Record<string, unknown> {
  return { op: 'mute', room, user, ...(o.until !== undefined ? { until: ms(o.until) } : {}) };
}

/** The end a `ban` or `mute` reply names (null: until lifted). */
export const untilOf = (reply: Record<string, unknown>): number | null => (typeof reply.until === 'number' ? reply.until : null);

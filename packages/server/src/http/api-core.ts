import type { Core } from '../core/core.js';
import type { ModerationActor } from '../core/moderation-types.js';
import type { RoomRecord } from '../store/store.js';

// What the server API's routes use of the core, and the pieces several route files share.

export type ApiCore = Pick<Core, 'config' | 'log' | 'now' | 'store' | 'broker' | 'registry' | 'membership' | 'delivery' | 'directory' | 'moderation'>;

/** The server API acts as the system: it may do everything a room's owner or an admin may. */
export const SYSTEM: ModerationActor = { kind: 'system' };

/** A room as the API shows it. */
export interface AdminRoom {
  id: string;
  title: string | null;
  visibility: 'public' | 'private';
  direct: boolean;
  owner: string | null;
  capacity: number | null;
  persist: boolean;
  createdAt: number;
  /** Days messages are kept (null: the server's default). */
  retention: number | null;
  receipts: boolean;
  /** Seconds between one member's messages; absent: off. */
  slowMode?: number;
  /** Members (stored). */
  members: number;
  /** Distinct users online in it, on any node. */
  online: number;
  lastSeq: number;
}

/** Rooms with their member and online counts (two queries for a whole page). */
export async function adminRooms(core: Pick<Core, 'store' | 'broker'>, rows: RoomRecord[]): Promise<AdminRoom[]> {
  const ids = rows.map((r) => r.id);
  const [members, online] = await Promise.all([core.store.memberCounts(ids), core.broker.presenceCounts(ids)]);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    visibility: r.visibility,
    direct: r.direct,
    owner: r.owner,
    capacity: r.capacity,
    persist: r.persist,
    createdAt: r.createdAt,
    retention: r.retention,
    receipts: r.receipts,
    ...(r.slowMode ? { slowMode: r.slowMode } : {}),
    members: members.get(r.id) ?? 0,
    online: online.get(r.id) ?? 0,
    lastSeq: r.lastSeq,
  }));
}

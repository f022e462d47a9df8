import type { RoomCursor, RoomRecord, Store } from '../store/store.js';
import { after } from './room-pages.js';

/** Public rooms kept in the directory: its pages end here. */
export const DIRECTORY_SIZE = 1000;
/** How long a directory snapshot is used before the store is asked again, ms. */
const DIRECTORY_TTL_MS = 5000;

/**
 * The public room directory: the most active public rooms, read from the store at most once
 * every few seconds however many clients ask. Sorting every room by activity is a full scan
 * (20-35 ms at 100,000 rooms on SQLite, on the event loop); an index on lastSeq would make every
 * append pay instead. Rooms created or deleted on this node show at once.
 */
export class PublicRoomDirectory {
  private snapshot: RoomRecord[] | null = null;
  private takenAt = 0;
  private loading: Promise<RoomRecord[]> | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** A page of at most `limit` rooms after `cursor`, and the cursor of the next page if any. */
  async page(cursor: RoomCursor | undefined, limit: number): Promise<{ rooms: RoomRecord[]; next?: RoomCursor }> {
    const all = await this.current();
    const start = cursor ? all.findIndex((r) => after(r, cursor)) : 0;
    if (start < 0) return { rooms: [] };
    const rooms = all.slice(start, start + limit);
    const last = rooms.at(-1);
    return start + limit < all.length && last ? { rooms, next: { lastSeq: last.lastSeq, id: last.id } } : { rooms };
  }

  private async current(): Promise<RoomRecord[]> {
    if (this.snapshot && this.now() - this.takenAt < DIRECTORY_TTL_MS) return this.snapshot;
    this.loading ??= this.store.publicRooms(DIRECTORY_SIZE).then(
      (rows) => {
        this.snapshot = rows;
        this.takenAt = this.now();
        this.loading = null;
        return rows;
      },
      (err: unknown) => {
        this.loading = null;
        throw err;
      },
    );
    return this.loading;
  }

  /** A room made public on this node appears without waiting for the next snapshot. */
  added(room: RoomRecord): void {
    const all = this.snapshot;
    if (!all || room.visibility !== 'public' || room.direct) return;
    const at = all.findIndex((r) => after(r, room));
    if (at >= 0) all.splice(at, 0, room);
    else if (all.length < DIRECTORY_SIZE) all.push(room);
    if (all.length > DIRECTORY_SIZE) all.pop();
  }

  /** A room deleted (or changed) on this node leaves it at once. */
  removed(id: string): void {
    const all = this.snapshot;
    if (!all) return;
    const i = all.findIndex((r) => r.id === id);
    if (i >= 0) all.splice(i, 1);
  }
}

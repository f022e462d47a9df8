import type { UserRef, WelcomeEvent } from '@roomcast/protocol';
import { isTransient, RETRY_AFTER_MS, RoomcastError } from './errors.js';
import { newClientId } from './ids.js';
import type { Link } from './link.js';
import type { Message } from './messages.js';
import type { ResolvedOptions } from './options.js';
import type { OutboxEntry, Pending } from './outbox.js';
import type { ReplyHandler } from './requests.js';
import type { RoomLink } from './room.js';
import { checkContent, encodeSend, ownMessage, quoteOf, sendResult } from './sends.js';
import { later } from './timers.js';
import type { ClientStats, PostContent, SendResult } from './types.js';

/**
 * The request API, over whichever connection the link has up: requests that wait for a reply,
 * frames that don't, and sends through the outbox. Rooms talk to the server only through this
 * (it is their `RoomLink`); so does the client's own API.
 */
export class Channel implements RoomLink {
  constructor(
    private readonly link: Link,
    readonly options: ResolvedOptions,
    readonly stats: ClientStats,
    /** Our message was stored: it takes its seq in its room, like anyone else's. */
    private readonly stored: (message: Message) => void,
  ) {}

  get userId(): string | null {
    return this.link.user?.id ?? null;
  }

  get user(): UserRef | null {
    return this.link.user;
  }

  get limits(): WelcomeEvent['limits'] | null {
    return this.link.limits;
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** A request whose reply `done` handles synchronously (before the next frame is read). */
  call(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean, done: ReplyHandler): void {
    this.link.requests.call(body, onDrop, timeout, done);
  }

  /** `call` as a promise, for requests whose reply nothing else depends on. */
  request(body: Record<string, unknown>, onDrop: Pending['onDrop'], timeout: boolean): Promise<Record<string, unknown>> {
    return this.link.requests.request(body, onDrop, timeout);
  }

  fire(body: Record<string, unknown>): void {
    this.link.fire(body);
  }

  report(error: RoomcastError, room?: string): void {
    this.link.report(error, room);
  }

  /** A send (to a room) or dm (to a user) through the outbox: written now if connected, else after the reconnect. */
  post(target: { room: string } | { to: string }, content: PostContent): Promise<SendResult & { online?: boolean }> {
    const requests = this.link.requests;
    return new Promise((resolve, reject) => {
      if (requests.refusing) return reject(requests.refusing);
      const problem = checkContent(content, this.link.limits);
      if (problem) return reject(problem);
      const ref = requests.newRef();
      const id = newClientId();
      const direct = 'to' in target;
      const entry: OutboxEntry = {
        ref,
        id,
        frame: encodeSend(target, ref, id, content),
        onDrop: 'resend',
        queued: false,
        sent: false,
        recheck: () => checkContent(content, this.link.limits),
        settle: (reply) => {
          if (!reply.ok) {
            if (isTransient(reply.error.code) && !requests.refusing) {
              // Same frame, same id, after a pause: the server stores it once however it goes.
              entry.queued = entry.sent = false;
              later(() => {
                if (requests.outbox.get(ref) === entry) requests.transmit(entry);
              }, RETRY_AFTER_MS);
              return;
            }
            requests.outbox.delete(ref);
            reject(RoomcastError.fromBody(reply.error));
            return;
          }
          requests.outbox.delete(ref);
          this.stats.acknowledged++;
          const result = sendResult(reply, id);
          this.stored(ownMessage(result, content, this.link.user, direct, quoteOf(reply)));
          resolve(result);
        },
        fail: (err) => {
          requests.outbox.delete(ref);
          reject(err);
        },
      };
      try {
        requests.enqueue(entry);
      } catch (err) {
        reject(err);
        return;
      }
      this.stats.sent++;
    });
  }
}

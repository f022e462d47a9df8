import type { UserRef, WelcomeEvent } from '@roomcast/protocol';
import type { FeedLink } from './feed.js';
import type { ResolvedOptions } from './options.js';
import type { JoinLink } from './room-join.js';
import type { PostContent, SendResult } from './types.js';

/** @internal What a Room needs from its client: the connection to talk over, and its settings. */
export interface RoomLink extends FeedLink, JoinLink {
  readonly options: Pick<ResolvedOptions, 'history' | 'typingInterval' | 'requestTimeout'>;
  /** The signed-in user (our own changes are made by them) and their id (their messages are `mine`). */
  readonly user: UserRef | null;
  readonly userId: string | null;
  /** The server's limits (an edit's text is checked against them). */
  readonly limits: WelcomeEvent['limits'] | null;
  /** A frame without a reply (typing): only while connected, never queued. */
  fire(body: Record<string, unknown>): void;
  /** A message through the client's outbox: resolves once stored. */
  post(target: { room: string }, content: PostContent): Promise<SendResult>;
}

// The webhook event as the app's backend receives it, and where events go (contract A).

/** The JSON body POSTed: `id` is stable across retries (dedupe by it). */
export interface WebhookEvent {
  id: string;
  type: string;
  ts: number;
  data: Record<string, unknown>;
}

/**
 * Where the dispatcher sends events: a URL (http-endpoint.ts) or, in library mode, a function
 * in the application's process. Throwing (or rejecting) is a failure: the event is retried.
 */
export interface WebhookEndpoint {
  /** Unique among the endpoints: its outbox rows and its status are kept under this name. */
  name: string;
  /** Event types it wants; absent: all. */
  types?: readonly string[];
  deliver(event: WebhookEvent, body: string): Promise<void>;
}

/** Every event type the server emits (moderation's are helper C's). */
export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.edited',
  'message.unsent',
  'reaction.changed',
  'member.joined',
  'member.left',
  'member.kicked',
  'room.created',
  'room.updated',
  'room.deleted',
  'user.online',
  'user.offline',
  'message.unreached',
] as const;

/** The moderation events (core/room-moderation.ts): accepted in --webhooks-file filters too. */
export const MODERATION_EVENT_TYPES = ['member.banned', 'member.unbanned', 'member.muted', 'member.unmuted', 'member.role', 'user.banned', 'user.unbanned'] as const;

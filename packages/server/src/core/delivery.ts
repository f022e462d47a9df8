import { encodeBinaryFrame, type MsgEvent, type RoomInfo, type StreamEvent, type UserRef } from '@roomcast/protocol';
import type { Broker, BrokerHandler, ControlMessage } from '../broker/broker.js';
import type { AppendInput, AppendResult, BinaryPayload, ChangeInput, Store } from '../store/store.js';
import { PostRefused } from '../store/post-guard.js';
import { catchUpBehind, type BacklogDeps } from './backlog.js';
import { refusalOf } from './moderation-refusals.js';
import type { RequestContext } from './context.js';
import { ChatError } from './errors.js';
import { fileUrl, toStreamEvent } from './events.js';
import { newMessageId } from './ids.js';
import { LiveRooms, type LiveRoom } from './live-rooms.js';
import type { Logger } from './logger.js';
import type { GateInput, MessageGate } from './message-gate.js';
import type { Outbound } from './outbound.js';
import type { Quotas } from './quotas.js';
import { Sequencer } from './sequencer.js';
import { encodeJson, type Session } from './session.js';
import type { ChatStats } from './stats.js';
import type { Work } from './work.js';

/** What a posted message carries besides its room and sender. */
export interface PostBody {
  text?: string;
  meta?: Record<string, unknown>;
  clientId?: string;
  binary?: BinaryPayload;
  replyTo?: number;
  mentions?: string[];
  /** Not a message: a change to message `change.target`, an event of the stream all the same. */
  change?: ChangeInput;
  /** The sender's mute (and for a message the room's slow mode) is checked in the commit (moderatedAs). */
  moderated?: 'message' | 'change';
}

export interface DeliveryDeps {
  store: Store;
  broker: Broker;
  outbound: Outbound;
  quotas: Quotas;
  stats: ChatStats;
  work: Work;
  log: Logger;
  now: () => number;
  /**
   * Several nodes share the broker: messages from other nodes go through the Sequencer (they can
   * come late, twice or not at all). In one process they arrive committed and in order, so
   * delivery skips it.
   */
  clustered: boolean;
  /** How long an out-of-order message waits before the gap is read from the store, ms. */
  gapMs: number;
  /** Where the broker's messages for a room go (ClusterSync; bound after it is made). */
  inbound: BrokerHandler;
  /** The filter / moderation hook / beforeMessage that posts pass before they are stored; absent: none. */
  gate?: MessageGate | undefined;
}

/**
 * Store, then fan out: a message is stored (which gives it its seq), framed once, written to this
 * node's members of the room and published to the other nodes. Owns the live rooms, and the
 * cross-node sequencer in cluster mode.
 */
export class Delivery {
  readonly rooms: LiveRooms;
  /** Null in one process (embedded mode). */
  readonly sequencer: Sequencer | null;
  private readonly backlog: BacklogDeps;

  constructor(private readonly d: DeliveryDeps) {
    const out = d.outbound;
    this.rooms = new LiveRooms({
      write: (s, data, binary, paced) => out.deliver(s, data, binary, paced),
      full: (s, size) => out.full(s, size),
      busy: (s) => out.busy(s),
      behind: (s, room, afterSeq) => catchUpBehind(this.backlog, s, room.info.id, afterSeq),
      overflow: (s) => out.closeSlow(s, 'slow consumer: too many events waiting behind its backlog; reconnect and resume with since'),
      heldBudget: out.streamLimit,
    });
    this.backlog = {
      rooms: this.rooms,
      store: d.store,
      work: d.work,
      log: d.log,
      streamLimit: out.streamLimit,
      write: (s, data) => out.deliver(s, data, false, true),
    };
    this.sequencer = d.clustered
      ? new Sequencer({
          rooms: this.rooms,
          load: (room, after, upTo) => d.store.messagesAfter(room, after, upTo - after),
          lastSeq: async (room) => (await d.store.getRoom(room))?.lastSeq ?? 0,
          encode: (m) => encodeJson(toStreamEvent(m)),
          gapMs: d.gapMs,
          onError: (err, room) => d.log.warn({ err, room }, 'could not read missed messages from the store; will retry'),
        })
      : null;
  }

  /** What sending stored messages to one connection needs (join backlogs). */
  get backlogDeps(): BacklogDeps {
    return this.backlog;
  }

  /** Writes one room event to one session (see Outbound for the slow-consumer rule and `paced`). */
  write(session: Session, data: Uint8Array, binary: boolean, paced = false): void {
    this.d.outbound.deliver(session, data, binary, paced);
  }

  /**
   * Sends an event to the room's members here and on other nodes. `droppable` marks a hint
   * (typing) that members with a backlog to get through may miss.
   */
  broadcast(roomId: string, event: object, except: { session?: string; user?: string } = {}, droppable = false): void {
    const data = encodeJson(event);
    this.rooms.deliver(roomId, { data, binary: false, exceptSession: except.session, exceptUser: except.user, droppable });
    this.d.broker.publish({ room: roomId, data, binary: false, exceptConn: except.session, exceptUser: except.user, ...(droppable ? { droppable } : {}) });
  }

  /** Tells the other nodes to apply a membership change to their connections too. */
  tell(channel: string, control: ControlMessage): void {
    this.d.broker.publish({ room: channel, data: new Uint8Array(0), binary: false, control });
  }

  /**
   * Stores a message, then delivers it to the room and answers the sender. Returns at once:
   * the session's next request need not wait for the commit.
   */
  async post(ctx: RequestContext, room: RoomInfo, body: PostBody, replyExtra: object = {}, replyOf: (res: AppendResult) => object = messageReply): Promise<void> {
    if (this.d.quotas.messagesLimited) await this.d.quotas.takeMessage(ctx.session.user.id);
    if (this.d.gate) return this.postGated(this.d.gate, ctx, room, body, replyExtra, replyOf);
    void this.d.work.track(
      this.publish(room, { id: ctx.session.user.id, name: ctx.session.user.name }, body, ctx.session.id).then(
        (res) => ctx.ok(Object.assign(replyOf(res), replyExtra)),
        (err: unknown) => ctx.fail(err),
      ),
    );
  }

  /**
   * `post` through the gate: the text stored (and delivered) is the one the gate let through, and
   * the sender's reply carries it as `text` when the gate changed it.
   */
  private postGated(gate: MessageGate, ctx: RequestContext, room: RoomInfo, body: PostBody, replyExtra: object, replyOf: (res: AppendResult) => object): void {
    const from = { id: ctx.session.user.id, name: ctx.session.user.name };
    let changed: string | undefined;
    const release = (text: string | undefined): Promise<AppendResult> => {
      changed = text;
      return this.publish(room, from, text === undefined ? body : withText(body, text), ctx.session.id);
    };
    void this.d.work.track(
      gate.pass(room.id, gateInput(room, from, body), release).then(
        (res) => ctx.ok(Object.assign(replyOf(res), replyExtra, changed === undefined || res.duplicate ? {} : { text: changed })),
        (err: unknown) => ctx.fail(err),
      ),
    );
  }

  /**
   * Stores a message and, once committed, delivers it to the room's members here and on other
   * nodes (all but `exceptSession`, the sender's own connection). A duplicate is not delivered.
   */
  async publish(room: RoomInfo, from: UserRef, body: PostBody, exceptSession?: string): Promise<AppendResult> {
    // Never acknowledge what other nodes could not be told about: the client retries instead.
    if (!this.d.broker.available) throw new ChatError('unavailable', 'the cluster broker is unavailable right now; retry in a moment');
    const input: AppendInput = { room: room.id, persist: room.persist, from, msgId: newMessageId(), ts: this.d.now() };
    if (body.clientId !== undefined) input.clientId = body.clientId;
    if (body.text !== undefined) input.text = body.text;
    if (body.meta !== undefined) input.meta = body.meta;
    if (body.binary !== undefined) input.binary = body.binary;
    if (body.replyTo !== undefined) input.replyTo = body.replyTo;
    if (body.mentions !== undefined && body.mentions.length > 0) input.mentions = [...new Set(body.mentions)];
    if (body.change !== undefined) input.change = body.change;
    if (body.moderated !== undefined) input.moderated = body.moderated;
    let res: AppendResult;
    try {
      res = await this.d.store.append(input);
    } catch (err) {
      throw err instanceof PostRefused ? refusalOf(err) : err;
    }
    if (res.duplicate || res.already) return res;
    let data: Uint8Array;
    if (input.change) {
      data = encodeJson(changeEvent(input, res));
    } else if (input.binary) {
      this.d.stats.messagesIn++;
      const event = messageEvent(input, res);
      const b = input.binary;
      const info = { mime: b.mime, ...(b.name ? { name: b.name } : {}), size: b.data.byteLength };
      data = encodeBinaryFrame({ ...event, ...info, binary: { ...info, url: fileUrl(res.room, res.seq) } }, b.data);
    } else {
      this.d.stats.messagesIn++;
      data = encodeJson(messageEvent(input, res));
    }
    const binary = input.binary !== undefined;
    // A change reaches the changer's own connection too (before its reply): it is applied like
    // anyone's, and the connection's view of the stream has no hole where its seq is.
    if (input.change) exceptSession = undefined;
    const target = { data, binary, seq: res.seq, exceptSession };
    if (this.sequencer) {
      const live = this.rooms.get(res.room);
      if (live) this.sequencer.offer(live, target);
    } else {
      this.rooms.deliver(res.room, target);
    }
    this.d.broker.publish({ room: res.room, data, binary, seq: res.seq, exceptConn: exceptSession });
    return res;
  }

  /**
   * A room got its first member on this node: receive it from the other nodes, and (cluster) start
   * sequencing it, from `from` when given (the first message its members still need).
   */
  async opened(live: LiveRoom, from?: number): Promise<void> {
    await this.d.broker.subscribe(live.info.id, this.d.inbound);
    if (this.sequencer) await this.sequencer.start(live, from);
  }

  /** A room lost its last member on this node. */
  async closed(roomId: string): Promise<void> {
    await this.d.broker.unsubscribe(roomId);
  }

  /** The session gets the room from the store after `afterSeq`, then live (see backlog.ts). */
  catchUp(session: Session, roomId: string, afterSeq: number): void {
    catchUpBehind(this.backlog, session, roomId, afterSeq);
  }

  /** Messages in the room up to this seq were delivered here (all committed); null: none yet. */
  deliveredSeq(roomId: string): number | null {
    return this.rooms.get(roomId)?.deliveredSeq ?? null;
  }
}

/** What the gate checks of a post: a text message or an edit; null for the rest (binary, reactions, unsends). */
function gateInput(room: RoomInfo, from: UserRef, body: PostBody): GateInput | null {
  const direct = room.direct === true;
  const c = body.change;
  if (c) return c.kind === 'edit' ? { kind: 'edit', room: room.id, from, text: c.text, ...(c.meta !== undefined ? { meta: c.meta } : {}), seq: c.target, direct } : null;
  if (body.text === undefined || body.binary !== undefined) return null;
  return { kind: 'message', room: room.id, from, text: body.text, ...(body.meta !== undefined ? { meta: body.meta } : {}), direct };
}

function withText(body: PostBody, text: string): PostBody {
  const c = body.change;
  return c?.kind === 'edit' ? { ...body, change: { ...c, text } } : { ...body, text };
}

/** The reply to a `send` or `dm`. */
function messageReply(res: AppendResult): object {
  const reply: Record<string, unknown> = { room: res.room, seq: res.seq, ts: res.ts, id: res.id };
  if (res.quote) reply.replyTo = res.quote;
  if (res.duplicate) reply.duplicate = true;
  return reply;
}

/** A new message as its live `msg` event. */
function messageEvent(input: AppendInput, res: AppendResult): MsgEvent {
  const event: MsgEvent = { op: 'msg', room: res.room, seq: res.seq, id: res.id, from: input.from, ts: res.ts };
  if (input.text !== undefined) event.text = input.text;
  if (input.meta !== undefined) event.meta = input.meta;
  if (res.quote !== undefined) event.replyTo = res.quote;
  if (input.mentions !== undefined) event.mentions = input.mentions;
  return event;
}

/** A stored change as its live event: the same object a backlog reads from the store. */
function changeEvent(input: AppendInput, res: AppendResult): StreamEvent {
  const c = input.change as ChangeInput;
  const base = { room: res.room, seq: res.seq, target: c.target };
  switch (c.kind) {
    case 'edit':
      return { op: 'edit', ...base, text: c.text, ...(c.meta !== undefined ? { meta: c.meta } : {}), editedAt: res.ts, from: input.from };
    case 'unsend':
      return { op: 'unsend', ...base, by: input.from };
    case 'reaction':
      return { op: 'reaction', ...base, emoji: c.emoji, user: input.from, on: c.on, count: res.count ?? 0 };
  }
}

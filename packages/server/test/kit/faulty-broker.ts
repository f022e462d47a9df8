import type { UserRef } from '@roomcast/protocol';
import type { BrokerHandler, BrokerMessage, PresenceChange, PresenceResync } from '../../src/broker/broker.js';
import { MemoryBroker, type MemoryBus } from '../../src/broker/memory.js';
import { Signal, waitUntil } from '../../../../test/wait.js';

/** What a test can do to the messages one node receives from the others. */
export type Fault = 'deliver' | 'drop' | 'hold';

/** A message held back by a fault, and how to let it through. */
export interface Held {
  message: BrokerMessage;
  release(): void;
}

interface BusEntry {
  user: UserRef;
  nodes: MemoryBroker[];
}

/**
 * The in-process broker of one node of a kit cluster, with faults: messages it receives can be
 * dropped or held (and released in any order, which reorders them), and the node can die (its
 * presence stays on the bus until a live node's sweep finds it, as a Redis lease would).
 */
export class FaultyBroker extends MemoryBroker {
  /** Decides what happens to each message this node receives; deliver by default. */
  fault: (m: BrokerMessage) => Fault = () => 'deliver';
  readonly held: Held[] = [];
  dead = false;
  private readonly heldChanged = new Signal();

  constructor(
    private readonly kitBus: MemoryBus,
    /** Every node of the cluster, so a sweep can tell the dead ones. */
    private readonly nodes: readonly FaultyBroker[],
  ) {
    super(kitBus);
  }

  override async subscribe(room: string, handler: BrokerHandler): Promise<void> {
    await super.subscribe(room, (m) => this.receive(m, handler));
  }

  override publish(message: BrokerMessage): void {
    if (!this.dead) super.publish(message);
  }

  private receive(m: BrokerMessage, handler: BrokerHandler): void {
    if (this.dead) return;
    const what = this.fault(m);
    if (what === 'drop') return;
    if (what === 'hold') {
      this.held.push({ message: m, release: () => handler(m) });
      this.heldChanged.notify();
      return;
    }
    handler(m);
  }

  /** Resolves once `n` messages are held. */
  async holding(n: number): Promise<Held[]> {
    await waitUntil(() => this.held.length >= n, { what: `${n} held messages`, seen: () => `${this.held.length} held`, timeoutMs: 5000, on: this.heldChanged.on });
    return this.held.splice(0, n);
  }

  /** The node crashed: it says nothing more and hears nothing; its presence waits for a sweep. */
  kill(): void {
    this.dead = true;
  }

  override async presenceAdd(room: string, user: UserRef): Promise<PresenceChange> {
    return this.dead ? { changed: false, online: 0 } : super.presenceAdd(room, user);
  }

  override async presenceRemove(room: string, userId: string): Promise<PresenceChange> {
    return this.dead ? { changed: false, online: 0 } : super.presenceRemove(room, userId);
  }

  /** Users of dead nodes leave presence (what a Redis lease expiry does), every room at once. */
  async sweep(): Promise<PresenceResync[]> {
    const out: PresenceResync[] = [];
    for (const room of [...this.kitBus.presence.keys()]) {
      const { online, gone } = this.sweepRoom(room);
      if (gone.length > 0) out.push({ room, joined: [], left: gone, online });
    }
    return out;
  }

  private sweepRoom(room: string): { online: number; gone: UserRef[] } {
    // A dead node runs nothing, its sweeps included.
    if (this.dead) return { online: 0, gone: [] };
    const members = this.kitBus.presence.get(room) as unknown as BusEntry | Map<string, BusEntry> | undefined;
    if (members === undefined) return { online: 0, gone: [] };
    const entries = members instanceof Map ? [...members.values()] : [members];
    const gone: UserRef[] = [];
    for (const e of entries) {
      const alive = e.nodes.filter((n) => !(n instanceof FaultyBroker && n.dead && this.nodes.includes(n)));
      if (alive.length === e.nodes.length) continue;
      e.nodes = alive;
      if (alive.length === 0) {
        gone.push(e.user);
        if (members instanceof Map) members.delete(e.user.id);
        else this.kitBus.presence.delete(room);
      }
    }
    const left = this.kitBus.presence.get(room) as unknown as BusEntry | Map<string, BusEntry> | undefined;
    return { online: left === undefined ? 0 : left instanceof Map ? left.size : 1, gone };
  }
}

import { pino } from 'pino';
import { MemoryBus } from '../../src/broker/memory.js';
import { DEFAULT_CHAT_CONFIG, type ChatConfig } from '../../src/core/config.js';
import { createCore, type Core } from '../../src/core/core.js';
import { newSessionId, newUserId } from '../../src/core/ids.js';
import type { Session } from '../../src/core/session.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { changes, waitUntil } from '../../../../test/wait.js';
import { removeDir, tempDir } from '../helpers.js';
import { FakeConnection, type KitFrame } from './fake-connection.js';
import { FaultyBroker } from './faulty-broker.js';

// The in-process test kit: several cores on one in-memory bus and one real SQLite store, with
// fake connections and a broker that drops, holds and reorders what a node receives. Cross-node
// gap filling, presence and control messages are tested in milliseconds, without sockets,
// PostgreSQL or Redis. Waiting is always for a frame; timeouts only turn a hang into a failure.

const WAIT_MS = 5000;

export interface KitOptions {
  nodes?: number;
  config?: Partial<ChatConfig>;
  /** How long an out-of-order message waits before the gap is read from the store, ms. */
  gapMs?: number;
  /** How often nodes sweep presence for users of dead nodes, ms. */
  sweepMs?: number;
}

export interface KitCluster {
  store: Store;
  nodes: KitNode[];
  close(): Promise<void>;
}

/** Starts `nodes` cores (default 2) in cluster mode on one bus and one SQLite store. */
export async function startKit(o: KitOptions = {}): Promise<KitCluster> {
  const dir = tempDir('roomcast-kit-');
  const store = await openSqliteStore({ dataDir: dir, sync: 'normal', integrityCheck: 'off' });
  const bus = new MemoryBus();
  const brokers: FaultyBroker[] = [];
  const config: ChatConfig = { ...DEFAULT_CHAT_CONFIG, ratePerSec: 0, presenceGraceMs: 0, ...o.config };
  const log = pino({ level: 'silent' });
  const nodes: KitNode[] = [];
  for (let i = 0; i < (o.nodes ?? 2); i++) {
    const broker = new FaultyBroker(bus, brokers);
    brokers.push(broker);
    const core = createCore({ store, broker, config, log, clustered: true, gapMs: o.gapMs ?? 20, sweepMs: o.sweepMs ?? 20 });
    nodes.push(new KitNode(`node${i}`, core, broker));
  }
  return {
    store,
    nodes,
    async close() {
      for (const n of nodes) await n.core.shutdown();
      await store.close();
      for (const b of brokers) await b.close();
      removeDir(dir);
    },
  };
}

/** One core of the kit: connect users to it, break its broker. */
export class KitNode {
  constructor(
    readonly name: string,
    readonly core: Core,
    readonly broker: FaultyBroker,
  ) {}

  /** Opens a connection for a (new, or given) user and waits for its welcome. */
  async connect(name: string, userId = newUserId()): Promise<KitClient> {
    const conn = new FakeConnection(newSessionId());
    const session = this.core.sessions.open(conn, { id: userId, name, guest: true, admin: false });
    const client = new KitClient(this, session, conn);
    client.welcome = await client.next('welcome');
    return client;
  }
}

/** A user's connection to one kit node. */
export class KitClient {
  welcome!: KitFrame;
  private nextRef = 1;

  constructor(
    readonly node: KitNode,
    readonly session: Session,
    readonly conn: FakeConnection,
  ) {}

  get userId(): string {
    return this.session.user.id;
  }

  /** Sends a request frame as the gateway would hand it over. */
  send(frame: object): void {
    this.node.core.intake.text(this.session, new TextEncoder().encode(JSON.stringify(frame)));
  }

  /** Sends a request with a fresh ref and resolves with its reply (ok or not). */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<KitFrame> {
    const ref = this.nextRef++;
    this.send({ op, ref, ...fields });
    return this.next('reply', (f) => f.ref === ref);
  }

  /** Like request, but throws unless the reply is ok. */
  async ok(op: string, fields: Record<string, unknown> = {}): Promise<KitFrame> {
    const r = await this.request(op, fields);
    if (!r.ok) throw new Error(`${op} failed: ${JSON.stringify(r.error)}`);
    return r;
  }

  /** Removes and returns the first received frame matching; waits for one if none came yet. */
  next(op: string, match: (f: KitFrame) => boolean = () => true): Promise<KitFrame> {
    return waitUntil(
      () => {
        const i = this.conn.frames.findIndex((f) => f.op === op && match(f));
        if (i >= 0) return this.conn.frames.splice(i, 1)[0] as KitFrame;
        if (!this.conn.isOpen) throw new Error(`${this.session.user.name}'s connection closed while waiting for ${op}`);
        return undefined;
      },
      {
        what: `a matching ${op} for ${this.session.user.name}`,
        seen: () => `got ${JSON.stringify(this.conn.frames.map((f) => f.op))}`,
        timeoutMs: WAIT_MS,
        on: changes(() => this.conn.changed()),
      },
    );
  }

  /** Removes and returns every received frame of an op so far. */
  take(op: string): KitFrame[] {
    const out = this.conn.frames.filter((f) => f.op === op);
    for (const f of out) this.conn.frames.splice(this.conn.frames.indexOf(f), 1);
    return out;
  }

  /**
   * A ping round trip: requests of a connection are handled in order, so everything its earlier
   * requests caused on this node has been written once the pong is back.
   */
  async barrier(): Promise<void> {
    await this.ok('ping');
  }

  /** The connection goes away (as the gateway reports a socket close). */
  async close(): Promise<void> {
    this.conn.close(1000, 'bye');
    await this.node.core.sessions.close(this.session);
  }
}

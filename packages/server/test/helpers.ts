import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { ReplyError, ReplyOk, WelcomeEvent } from '@roomcast/protocol';
import { Signal, WAIT_MS, waitUntil } from '../../../test/wait.js';
import { startServer, type RoomcastServer } from '../src/server.js';
import type { ServerConfig } from '../src/config.js';

// Test helpers: a real server on 127.0.0.1 port 0 and real WebSocket clients. Waiting is always
// for an event (a frame, a close); the timeouts only turn a hang into a readable failure.

export interface TestServer extends RoomcastServer {
  dataDir: string;
  wsUrl: string;
  connect(params?: Record<string, string>, options?: WebSocket.ClientOptions): Promise<TestClient>;
}

export function tempDir(prefix = 'roomcast-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const silent = pino({ level: 'silent' });

/** Starts a real server; `dataDir` reuses a directory (restart tests). */
export async function startTestServer(options: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  // No presence grace unless a test asks for one: tests await a departure's `leave` at once.
  const server = await startServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', presenceGraceMs: 0, ...options, dataDir }, silent);
  const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
  return Object.assign(server, {
    dataDir,
    wsUrl,
    connect: (params: Record<string, string> = {}, opts?: WebSocket.ClientOptions) => TestClient.connect(wsUrl, params, opts),
  });
}

/**
 * One server for the enclosing describe block (or the file, at the top level): started in
 * `beforeAll`, closed in `afterAll`. Returns a stand-in that forwards to the started server, so
 * tests use it as the server itself; touching it outside a test or hook throws. `options` may be a
 * function, called in `beforeAll`, for options that need set-up first (a certificate).
 *
 * @example
 * const server = serverPerSuite({ ratePerSec: 0 });
 * it('delivers', async () => { const alice = await server.connect({ name: 'Alice' }); });
 */
export function serverPerSuite(options: Partial<ServerConfig> | (() => Partial<ServerConfig> | Promise<Partial<ServerConfig>>) = {}): TestServer {
  let started: TestServer | undefined;
  beforeAll(async () => {
    started = await startTestServer(typeof options === 'function' ? await options() : options);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (!started) throw new Error(`serverPerSuite: the server is started in beforeAll; read .${String(key)} inside a test or hook`);
      const value: unknown = Reflect.get(started, key, started);
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}

/** For a describe block whose tests each start their own servers: closes them after each test. */
export function serversPerTest(): (options?: Partial<ServerConfig>) => Promise<TestServer> {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startTestServer(options);
    servers.push(s);
    return s;
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A received frame: parsed JSON, or for binary frames the header plus `payload`. */
export type Frame = Record<string, any> & { op: string; payload?: Buffer };

export type Reply = (ReplyOk | ReplyError) & Record<string, any>;

/** A WebSocket client that queues what it receives and lets a test await specific frames. */
export class TestClient {
  readonly frames: Frame[] = [];
  welcome!: WelcomeEvent;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly changed = new Signal();
  private nextRef = 1;
  private isClosed = false;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? decodeBinary(data) : (JSON.parse(data.toString()) as Frame));
      this.changed.notify();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        this.changed.notify();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', () => {});
  }

  /** Connects and waits for `welcome`. */
  static async connect(url: string, params: Record<string, string> = {}, options?: WebSocket.ClientOptions): Promise<TestClient> {
    const client = await TestClient.open(url, params, options);
    client.welcome = (await client.next('welcome')) as unknown as WelcomeEvent;
    return client;
  }

  /** Connects without waiting for `welcome` (for tests of refused connections). */
  static open(url: string, params: Record<string, string> = {}, options?: WebSocket.ClientOptions): Promise<TestClient> {
    const q = new URLSearchParams(params).toString();
    const ws = new WebSocket(q ? `${url}?${q}` : url, options);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  get userId(): string {
    return this.welcome.user.id;
  }

  /** Removes and returns the first queued frame matching; waits for one if none is queued yet. */
  next(op?: string, match: (f: Frame) => boolean = () => true, timeoutMs = WAIT_MS): Promise<Frame> {
    return waitUntil(
      () => {
        const i = this.frames.findIndex((f) => (op === undefined || f.op === op) && match(f));
        if (i >= 0) return this.frames.splice(i, 1)[0] as Frame;
        if (this.isClosed) throw new Error(`connection closed while waiting for ${op ?? 'a frame'}`);
        return undefined;
      },
      { what: op === undefined ? 'a frame' : `a matching ${op}`, seen: () => `queued ${JSON.stringify(this.frames.map((f) => f.op))}`, timeoutMs, on: this.changed.on },
    );
  }

  /** Removes and returns every queued frame of an op (after a barrier, "everything that came"). */
  take(op: string): Frame[] {
    const out = this.frames.filter((f) => f.op === op);
    for (const f of out) this.frames.splice(this.frames.indexOf(f), 1);
    return out;
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** Sends a request with a fresh ref and resolves with its reply (ok or not). */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const ref = this.nextRef++;
    this.send({ op, ref, ...fields });
    return (await this.next('reply', (f) => f.ref === ref)) as Reply;
  }

  /** Like request, but fails the test unless the reply is ok. */
  async ok(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const r = await this.request(op, fields);
    if (!r.ok) throw new Error(`${op} failed: ${JSON.stringify(r.error)}`);
    return r;
  }

  /**
   * A ping round trip. The server handles a connection's frames in order and delivers each event
   * to every recipient in the same turn, so once the pong is back, any event caused earlier has
   * arrived: checking the queue afterwards is how a test asserts that something did NOT arrive.
   */
  async barrier(): Promise<void> {
    await this.ok('ping');
  }

  close(): Promise<{ code: number; reason: string }> {
    if (!this.isClosed) this.ws.close();
    return this.closed;
  }
}

function decodeBinary(data: Buffer): Frame {
  const n = data.readUInt32BE(0);
  const header = JSON.parse(data.subarray(4, 4 + n).toString()) as Frame;
  return { ...header, payload: data.subarray(4 + n) };
}

/** Builds a binary request frame: 4-byte header length, JSON header, payload. */
export function binaryFrame(header: object, payload: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(h.length);
  return Buffer.concat([len, h, payload]);
}

import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { Signal, waitUntil } from '../../../test/wait.js';

// A real moderation hook receiver on 127.0.0.1 port 0: it records each request and lets the test
// decide, per request, how (and whether) to answer.

export interface HookRequest {
  body: Record<string, any>;
  raw: string;
  headers: IncomingHttpHeaders;
  res: ServerResponse;
}

export class HookServer {
  readonly requests: HookRequest[] = [];
  /** TCP connections accepted so far (keep-alive reuses them). */
  connections = 0;
  readonly changed = new Signal();
  /** How each request is answered; a handler that does nothing leaves it hanging. */
  handler: (r: HookRequest) => void = (r) => answer(r, { action: 'allow' });
  private constructor(private readonly server: Server) {}

  static async start(): Promise<HookServer> {
    const server = createServer();
    const hook = new HookServer(server);
    server.on('connection', () => hook.connections++);
    server.on('request', (req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const r = { body: JSON.parse(raw) as Record<string, any>, raw, headers: req.headers, res };
        hook.requests.push(r);
        hook.changed.notify();
        hook.handler(r);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return hook;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Waits until `n` requests have come in (since the start). */
  received(n: number): Promise<HookRequest[]> {
    return waitUntil(() => this.requests.length >= n && this.requests, { what: `${n} hook requests`, seen: () => `${this.requests.length}`, on: this.changed.on });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function answer(r: HookRequest, body: unknown, status = 200): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  r.res.writeHead(status, { 'content-type': 'application/json' }).end(text);
}

/** A hook server for the enclosing describe block; started before the roomcast server that uses it. */
export function hookPerSuite(): HookServer {
  let started: HookServer | undefined;
  beforeAll(async () => {
    started = await HookServer.start();
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as HookServer, {
    get(_t, key) {
      if (!started) throw new Error('hookPerSuite: started in beforeAll');
      const v: unknown = Reflect.get(started, key, started);
      return typeof v === 'function' ? v.bind(started) : v;
    },
    set(_t, key, value) {
      return Reflect.set(started as HookServer, key, value);
    },
  });
}

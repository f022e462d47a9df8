import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, type WebhookEvent } from '../src/webhooks/index.js';
import type { WakeOn } from '../../../test/wait.js';

// A webhook receiver for the tests: verifies each request's signature, records every arrival
// (duplicates included) and can fail a share of requests, or a request chosen by the test.

export interface Arrival {
  event: WebhookEvent;
  headers: IncomingMessage['headers'];
  signed: boolean;
}

export interface ReceiverOptions {
  secret: string;
  /** Answers 500 to this share of requests (decided by `random`). */
  failRate?: number;
  random?: () => number;
  /** Decides a request's answer; a number is the status; 'hang' never answers. */
  answer?: (event: WebhookEvent) => number | 'hang' | undefined;
}

export class Receiver {
  readonly arrivals: Arrival[] = [];
  /** Requests answered with a failure (or left hanging). */
  failures = 0;
  private readonly listeners = new Set<() => void>();
  private server!: Server;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  constructor(private readonly o: ReceiverOptions) {}

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Wakes waiters at each arrival. */
  readonly on: WakeOn = (wake) => {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  };

  /** The events accepted (2xx), first arrival of each id, in arrival order. */
  accepted: WebhookEvent[] = [];
  private acceptedIds = new Set<string>();

  ofType(type: string): WebhookEvent[] {
    return this.accepted.filter((e) => e.type === type);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(body) as WebhookEvent;
      const signed = verifyWebhookSignature(this.o.secret, req.headers['x-roomcast-signature'] as string | undefined, body);
      this.arrivals.push({ event, headers: req.headers, signed });
      let status = this.o.answer?.(event);
      if (status === undefined) status = (this.o.random ?? Math.random)() < (this.o.failRate ?? 0) ? 500 : 200;
      if (status === 'hang') {
        this.failures++;
        this.hanging.add(res);
      } else {
        if (status >= 200 && status < 300 && signed && !this.acceptedIds.has(event.id)) {
          this.acceptedIds.add(event.id);
          this.accepted.push(event);
        }
        if (status < 200 || status > 299) this.failures++;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
      }
      for (const l of [...this.listeners]) l();
    });
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A seeded generator (mulberry32): the same failures every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

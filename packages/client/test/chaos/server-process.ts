import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

// The real `roomcast serve` in a child process (the built CLI, as users run it), so it can be
// killed with SIGKILL and started again on the same data directory.

const BIN = fileURLToPath(new URL('../../../server/bin/roomcast.js', import.meta.url));

export class ServerProcess {
  private child: ChildProcessWithoutNullStreams | null = null;
  private exited: Promise<unknown> = Promise.resolve();
  port = 0;
  starts = 0;
  private stderr = '';

  constructor(
    private readonly dataDir: string,
    private readonly flags: string[],
  ) {}

  /** Starts the server and resolves with its port once it prints `listening on`. */
  async start(): Promise<number> {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', this.dataDir, ...this.flags], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = once(child, 'exit');
    this.stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void this.exited.then(() => reject(new Error(`roomcast exited before listening: ${this.stderr}`)));
    });
    this.starts++;
    return this.port;
  }

  /** Kills the process without warning (no 1001 to clients, no flush) and waits for it to go. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** The server's /api/stats. */
  async stats(): Promise<{ slowConsumers: number; connections: number; messagesIn: number }> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/stats`);
    return (await res.json()) as { slowConsumers: number; connections: number; messagesIn: number };
  }
}

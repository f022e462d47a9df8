import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The real `roomcast` command in a child process (built JS, as `npx roomcast` runs it), and the
// self-signed certificate the TLS tests serve with.

export const BIN = fileURLToPath(new URL('../bin/roomcast.js', import.meta.url));

export interface ChildServer {
  child: ChildProcessWithoutNullStreams;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * Runs `roomcast serve ARGS` and resolves once it prints its `listening on` line (with the real
 * port). `prefix` runs it under another command (e.g. `prlimit --nofile=400:400`).
 */
export async function spawnServe(args: string[], o: { env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): Promise<ChildServer> {
  const [cmd, ...pre] = o.prefix ?? [];
  const command = cmd ?? process.execPath;
  const argv = cmd ? [...pre, process.execPath, BIN, 'serve', ...args] : [BIN, 'serve', ...args];
  const child = spawn(command, argv, { env: { ...process.env, ...o.env } });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening on https?:\/\/127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(([code]) => reject(new Error(`roomcast exited with ${String(code)} before listening: ${err}`)));
  });
  return { child, port, stdout: () => out, stderr: () => err, exited };
}

/** A self-signed P-256 certificate for 127.0.0.1 and localhost, written to DIR (openssl). */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

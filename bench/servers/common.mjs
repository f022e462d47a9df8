// Shared by the baseline servers: command-line port/host, the "listening on" line the
// benchmark waits for, and a clean exit on SIGTERM (so --cpu-prof can write its profile).
import { parseArgs } from 'node:util';

export function options() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      recovery: { type: 'boolean', default: false },
    },
    strict: false,
  });
  return { port: Number(values.port), host: String(values.host), recovery: Boolean(values.recovery) };
}

/** @param {import('node:http').Server} server */
export function announce(server, host) {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`listening on http://${host}:${port}\n`);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

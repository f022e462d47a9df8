import { parseArgs } from 'node:util';
import { ConfigError, describeOptions, OPTIONS, resolveConfig } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

const USAGE = `roomcast: a self-hosted real-time chat-room server

Usage:
  roomcast serve [options]    start the server (embedded SQLite)
  roomcast --help             this text

Options (each also read from its environment variable; flags win):
${describeOptions()}
`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: 'string' as const }])),
    strict: true,
  });
  const config = resolveConfig(values as Record<string, string | undefined>, process.env);
  const log = createLogger(config.logLevel);
  const server = await startServer(config, log);
  const shown = server.url.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  process.stdout.write(
    `listening on ${server.url}\n` +
      `  web:       ${shown}/\n  websocket: ${shown.replace(/^http/, 'ws')}/ws?name=YOUR_NAME\n` +
      `  health:    ${shown}/healthz\n  stats:     ${shown}/api/stats\n  metrics:   ${shown}/metrics\n` +
      `  data:      ${config.dataDir}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Entry point of the `roomcast` command. */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return;
    }
    if (command === 'serve') return await serve(rest);
    throw new ConfigError(`unknown command "${command}"; run "roomcast --help" for the commands`);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e instanceof ConfigError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`roomcast: ${e.message}\n`);
      process.exit(2);
    }
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`roomcast: ${e.message}; pick another --port or stop what uses it\n`);
      process.exit(1);
    }
    throw err;
  }
}

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { mintToken, parseTtl } from './auth/mint.js';
import { ConfigError, describeOptions, OPTIONS, resolveConfig } from './config.js';
import { openPostgresStore } from './store/postgres.js';
import { openSqliteStore } from './store/sqlite.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

const USAGE = `roomcast: a self-hosted real-time chat-room server

Usage:
  roomcast serve [options]    start the server (embedded SQLite)
  roomcast token --sub ID [--name NAME] [--rooms 'team-*,lobby'] [--ttl 1h] [--admin]
                              print an HS256 token signed with --jwt-secret (ROOMCAST_JWT_SECRET),
                              with --jwt-issuer/--jwt-audience when set, for development and tests
  roomcast migrate [--postgres URL | --data DIR]
                              create or upgrade the database schema, then exit (serve does it too)
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
  if (availableParallelism() === 1 && !process.execArgv.includes('--single-threaded-gc')) {
    // V8 sizes its GC threads by the machine's cores; on one core they pause this process.
    log.info({}, 'this process may use one CPU: start node with --single-threaded-gc for steadier latency (docs/deployment.md, "One CPU")');
  }
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

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sub: { type: 'string' },
      name: { type: 'string' },
      rooms: { type: 'string' },
      ttl: { type: 'string' },
      admin: { type: 'boolean' },
      'jwt-secret': { type: 'string' },
      'jwt-issuer': { type: 'string' },
      'jwt-audience': { type: 'string' },
    },
    strict: true,
  });
  const config = resolveConfig(
    { 'jwt-secret': values['jwt-secret'], 'jwt-issuer': values['jwt-issuer'], 'jwt-audience': values['jwt-audience'] },
    process.env,
  );
  if (!values.sub) throw new ConfigError('token needs --sub USER_ID');
  if (!config.jwtSecret) throw new ConfigError('token needs the HS256 secret: --jwt-secret or ROOMCAST_JWT_SECRET');
  if (config.jwtSecret.length < 32) throw new ConfigError('--jwt-secret must be at least 32 characters');
  const ttlSec = parseTtl(values.ttl ?? '1h');
  if (ttlSec === null) throw new ConfigError(`--ttl must look like 90s, 15m, 1h or 7d, got "${values.ttl}"`);
  const jwt = await mintToken({
    secret: config.jwtSecret,
    sub: values.sub,
    name: values.name,
    rooms: values.rooms?.split(',').map((r) => r.trim()).filter(Boolean),
    admin: values.admin,
    ttlSec,
    issuer: config.jwtIssuer || undefined,
    audience: config.jwtAudience || undefined,
  });
  process.stdout.write(`${jwt}\n`);
}

async function migrate(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { postgres: { type: 'string' }, data: { type: 'string' } }, strict: true });
  const config = resolveConfig(values, process.env);
  const store = config.postgresUrl
    ? await openPostgresStore({ url: config.postgresUrl })
    : await openSqliteStore({ dataDir: config.dataDir, sync: config.sync });
  await store.close();
  process.stdout.write(`schema is up to date (${config.postgresUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`})\n`);
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
    if (command === 'token') return await token(rest);
    if (command === 'migrate') return await migrate(rest);
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

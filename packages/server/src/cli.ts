import { existsSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken, parseTtl } from './auth/mint.js';
import { ConfigError, describeOptions, OPTIONS, resolveConfig } from './config.js';
import { openPostgresStore } from './store/postgres.js';
import { backupDatabase } from './store/backup.js';
import { examine, formatReport } from './store/doctor.js';
import { describeDamage, describeError, isDamageError, type DamageReport } from './store/integrity.js';
import { openSqliteStore, sqliteFile } from './store/sqlite.js';
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
  roomcast doctor DIR         check DIR/roomcast.db (or a database file) read-only, safe while a
                              server runs: sizes, counts, integrity_check, each problem;
                              exit 0 healthy, 1 damaged, 2 no such file
  roomcast backup DIR FILE [--force]
                              copy DIR/roomcast.db to FILE with SQLite's online backup, safe while a
                              server runs and writes, then check the copy; --force replaces FILE
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
  // --metrics-address serves stats and metrics on a plain-http listener of their own.
  const monitor = config.metricsAddress ? `http://${config.metricsAddress.trim().replace(/^(0\.0\.0\.0|\[::\]):/, 'localhost:')}` : shown;
  process.stdout.write(
    `listening on ${server.url}\n` +
      `  web:       ${shown}/\n  websocket: ${shown.replace(/^http/, 'ws')}/ws?name=YOUR_NAME\n` +
      `  health:    ${shown}/healthz\n  stats:     ${monitor}/api/stats\n  metrics:   ${monitor}/metrics\n` +
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
  // SIGHUP rereads the filter's lists (--filter-words, --filter-patterns); it does not stop the server.
  process.on('SIGHUP', () => server.reloadFilter());
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
  let damage: DamageReport | undefined;
  const store = config.postgresUrl
    ? await openPostgresStore({ url: config.postgresUrl, timeoutMs: config.pgTimeoutMs })
    : await openSqliteStore({ dataDir: config.dataDir, sync: config.sync, integrityCheck: config.integrityCheck, onDamage: (d) => (damage = d) });
  await store.close();
  if (damage) {
    process.stderr.write(`roomcast: ${describeDamage(damage, false)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`schema is up to date (${config.postgresUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`})\n`);
}

/** The file is there but SQLite cannot read it: exit code 1, with the message alone. */
class DamagedFileError extends Error {}

/** The database a DIR (or FILE) argument names; a usage error when there is none. */
function databaseAt(arg: string): string {
  if (!existsSync(arg)) throw new ConfigError(`no such directory or file: ${arg}`);
  const file = statSync(arg).isDirectory() ? sqliteFile(arg) : arg;
  if (!existsSync(file)) throw new ConfigError(`no database in ${arg}: ${file} does not exist (serve --data names the directory)`);
  return file;
}

async function doctor(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new ConfigError('doctor needs the data directory (or a database file): roomcast doctor ./data');
  const report = examine(databaseAt(positionals[0] as string));
  process.stdout.write(formatReport(report));
  process.exitCode = report.problems.length === 0 ? 0 : 1;
}

async function backup(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { force: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 2) throw new ConfigError('backup needs the data directory and the file to write: roomcast backup ./data /backups/roomcast.db');
  const source = databaseAt(positionals[0] as string);
  const target = resolve(positionals[1] as string);
  if (!existsSync(dirname(target))) throw new ConfigError(`cannot write ${target}: the directory ${dirname(target)} does not exist`);
  if (existsSync(target) && realpathSync(target) === realpathSync(source)) throw new ConfigError(`${target} is the database itself; name another file`);
  if ((existsSync(target) || existsSync(`${target}-wal`)) && !values.force) throw new ConfigError(`${target} exists; pass --force to replace it`);
  const r = await backupDatabase(source, target).catch((err: unknown) => {
    if (!isDamageError(err)) throw err;
    throw new DamagedFileError(`cannot back up ${source}: ${describeError(err)}; "roomcast doctor" says more`);
  });
  if (r.problems.length > 0) {
    process.stderr.write(
      `roomcast: wrote ${target}, but the copy is damaged, so ${source} is too: ${r.problems.slice(0, 3).join('; ')}` +
        `${r.problems.length > 3 ? ` (and ${r.problems.length - 3} more)` : ''}. Keep an older backup; "roomcast doctor" lists every problem\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`wrote ${target} (${r.bytes} bytes, ${r.pages} pages), a copy of ${source}: rooms ${r.rooms}, messages ${r.messages}; quick_check: ok\n`);
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
    if (command === 'doctor') return await doctor(rest);
    if (command === 'backup') return await backup(rest);
    throw new ConfigError(`unknown command "${command}"; run "roomcast --help" for the commands`);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e instanceof ConfigError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`roomcast: ${e.message}\n`);
      process.exit(2);
    }
    if (e instanceof DamagedFileError || e.code?.startsWith('SQLITE_')) {
      // The file cannot be opened or read at all: say so without a stack.
      process.stderr.write(`roomcast: ${e instanceof DamagedFileError ? e.message : describeError(e)}\n`);
      process.exit(1);
    }
    if (e.code === 'redis_connect') {
      // The sentence names the server and what to check (WRONGPASS, a missing db, no answer).
      process.stderr.write(`roomcast: ${e.message}\n`);
      process.exit(1);
    }
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`roomcast: ${e.message}; pick another --port or stop what uses it\n`);
      process.exit(1);
    }
    throw err;
  }
}

import { DEFAULT_CHAT_CONFIG } from './core/config.js';

// Server configuration: flags > environment (ROOMCAST_*) > defaults. One table drives the
// parser, `roomcast --help` and the README's configuration table.

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  heartbeatMs: number;
  maxText: number;
  maxBinary: number;
  ratePerSec: number;
  maxConnPerIp: number;
  sendBufferLimit: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sync: 'normal' | 'full';
}

interface OptionSpec {
  key: keyof ServerConfig;
  flag: string;
  env: string;
  help: string;
  kind: 'int' | 'string' | { choices: readonly string[] };
  min?: number;
  max?: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'port', flag: 'port', env: 'ROOMCAST_PORT', kind: 'int', min: 0, max: 65535, help: 'TCP port to listen on (0 picks a free one)' },
  { key: 'host', flag: 'host', env: 'ROOMCAST_HOST', kind: 'string', help: 'address to listen on' },
  { key: 'dataDir', flag: 'data', env: 'ROOMCAST_DATA', kind: 'string', help: 'directory for the SQLite database and the guest-token key' },
  { key: 'heartbeatMs', flag: 'heartbeat', env: 'ROOMCAST_HEARTBEAT', kind: 'int', min: 100, help: 'ping interval in ms; silent connections are closed after two' },
  { key: 'maxText', flag: 'max-text', env: 'ROOMCAST_MAX_TEXT', kind: 'int', min: 1, help: 'longest message text, in characters' },
  { key: 'maxBinary', flag: 'max-binary', env: 'ROOMCAST_MAX_BINARY', kind: 'int', min: 1, help: 'largest binary message payload, in bytes' },
  { key: 'ratePerSec', flag: 'rate', env: 'ROOMCAST_RATE', kind: 'int', min: 0, help: 'frames a second per connection, bursts of twice that (0 = no limit)' },
  { key: 'maxConnPerIp', flag: 'max-conn-per-ip', env: 'ROOMCAST_MAX_CONN_PER_IP', kind: 'int', min: 1, help: 'open connections allowed from one address' },
  { key: 'sendBufferLimit', flag: 'send-buffer', env: 'ROOMCAST_SEND_BUFFER', kind: 'int', min: 1024, help: 'unsent bytes after which a connection is a slow consumer (closed with 1013)' },
  { key: 'logLevel', flag: 'log-level', env: 'ROOMCAST_LOG_LEVEL', kind: { choices: LOG_LEVELS }, help: 'log level (logs are JSON lines on stderr)' },
  { key: 'sync', flag: 'sync', env: 'ROOMCAST_SYNC', kind: { choices: ['normal', 'full'] }, help: 'SQLite durability: normal survives a process crash, full also a power loss (slower)' },
];

export const DEFAULT_CONFIG: ServerConfig = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: './data',
  heartbeatMs: DEFAULT_CHAT_CONFIG.heartbeatMs,
  maxText: DEFAULT_CHAT_CONFIG.maxText,
  maxBinary: DEFAULT_CHAT_CONFIG.maxBinary,
  ratePerSec: DEFAULT_CHAT_CONFIG.ratePerSec,
  maxConnPerIp: 1000,
  sendBufferLimit: DEFAULT_CHAT_CONFIG.sendBufferLimit,
  logLevel: 'info',
  sync: 'normal',
};

/** A setting that cannot be used; the message names the flag and what it accepts. */
export class ConfigError extends Error {
  readonly code = 'bad_config';
}

function parseValue(spec: OptionSpec, raw: string, source: string): string | number {
  if (spec.kind === 'int') {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < (spec.min ?? 0)) {
      throw new ConfigError(`${source} must be a whole number${spec.min ? ` of at least ${spec.min}` : ''}, got "${raw}"`);
    }
    if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${source} must be at most ${spec.max}, got ${n}`);
    return n;
  }
  if (spec.kind === 'string') {
    if (raw.trim() === '') throw new ConfigError(`${source} must not be empty`);
    return raw;
  }
  if (!spec.kind.choices.includes(raw)) {
    throw new ConfigError(`${source} must be one of ${spec.kind.choices.join(', ')}, got "${raw}"`);
  }
  return raw;
}

/** Builds the configuration from parsed flags and the environment. */
export function resolveConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): ServerConfig {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const spec of OPTIONS) {
    const fromFlag = flags[spec.flag];
    const fromEnv = env[spec.env];
    if (fromFlag !== undefined) config[spec.key] = parseValue(spec, fromFlag, `--${spec.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') config[spec.key] = parseValue(spec, fromEnv, spec.env);
  }
  return config as unknown as ServerConfig;
}

/** The option table as text, for `--help`. */
export function describeOptions(): string {
  const rows = OPTIONS.map((o) => {
    const kind = typeof o.kind === 'object' ? o.kind.choices.join('|') : o.kind === 'int' ? 'N' : 'VALUE';
    return [`--${o.flag} ${kind}`, o.env, String(DEFAULT_CONFIG[o.key]), o.help];
  });
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  return rows.map((r) => `  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[3]} (default: ${r[2]})`).join('\n');
}

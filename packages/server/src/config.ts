import { DEFAULT_CHAT_CONFIG } from './core/config.js';
import { clusterConfigProblem } from './cluster-config.js';

// Server configuration: flags > environment (ROOMCAST_*) > defaults. One table drives the
// parser, `roomcast --help` and the README's configuration table; the file is long because that
// table of every option is (checks of the cluster options live in cluster-config.ts).

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
  /** Who may connect: guests only, JWT users only, or both. */
  auth: 'guest' | 'jwt' | 'both';
  /** HS256 secret (at least 32 characters). Empty: not used. */
  jwtSecret: string;
  /** PEM file with an RSA, EC (P-256) or Ed25519 public key. Empty: not used. */
  jwtPublicKey: string;
  /** JWKS URL of the token issuer. Empty: not used. */
  jwksUrl: string;
  jwtIssuer: string;
  jwtAudience: string;
  authTimeoutMs: number;
  /** off: guests cannot create private rooms. */
  guestCreate: 'on' | 'off';
  /** Key for the server-side HTTP API. Empty: that API is disabled. */
  apiKey: string;
  /** JSON file of scoped API keys (http/api-keys.ts). Empty: only --api-key. */
  apiKeys: string;
  tlsCert: string;
  tlsKey: string;
  /** Proxies in front of the server whose X-Forwarded-For is trusted (0: none). */
  trustProxy: number;
  /** Comma-separated origins allowed to open a WebSocket from a browser; `*` allows any. */
  allowedOrigins: string;
  maxUnauthPerIp: number;
  /** Cluster mode: PostgreSQL URL for rooms, members and messages. Empty: embedded SQLite. */
  postgresUrl: string;
  /** Cluster mode: Redis URL(s) (comma-separated: shards, or with `redisCluster` seeds). Empty: in-process. */
  redisUrl: string;
  redisCluster: 'on' | 'off';
  /** Prefix of every Redis key and channel (two clusters on one Redis need two). */
  redisPrefix: string;
  /** Redis command and heartbeat timeout, ms; PostgreSQL statement timeout, ms. */
  redisTimeoutMs: number;
  pgTimeoutMs: number;
  /** This node's name in the cluster (unique). Empty: made from the host name and pid. */
  nodeId: string;
  /** How long a crashed node's users still count as online, ms. */
  presenceLeaseMs: number;
  /** Messages a second per user over all connections and nodes; 0: off. */
  userRate: number;
  /** Frames a reconnecting user may send beyond the rate right after `welcome`; 0: off. */
  resumeBurst: number;
  /** Time a new TCP connection has to send a whole request head (HTTP or upgrade), ms. */
  handshakeTimeoutMs: number;
  /** TCP connections from one address that have not sent a whole request head yet. */
  maxPendingPerIp: number;
  /** Open connections in all; 0: the file-descriptor limit minus a reserve. */
  maxConnections: number;
  /** How long a connection may leave queued data untaken before it is a slow consumer, ms. */
  sendTimeoutMs: number;
  /** Rooms one user may own at a time; 0: no limit. */
  maxRoomsPerUser: number;
  /** Invites one user may send a minute; 0: no limit. */
  inviteRate: number;
  /** Rooms listed in `welcome`; the rest are paged with `rooms {cursor}`. */
  welcomeRooms: number;
  editWindowMs: number;
  retentionDays: number;
  presenceGraceMs: number;
  searchRate: number;
  /** SQLite check at start. */
  integrityCheck: 'quick' | 'full' | 'off';
  /** HTTP API requests a second per address (bursts of twice that); 0: no limit. */
  httpRate: number;
  /** Token that /metrics and /api/stats require. Empty: open. */
  metricsToken: string;
  /** HOST:PORT serving /metrics and /api/stats instead of the main port. Empty: the main port. */
  metricsAddress: string;
  /** Moderation hook: URL POSTed each text message and edit before it is stored. Empty: none. */
  hookUrl: string;
  /** Signs the hook's requests (X-Roomcast-Signature). Empty: unsigned. */
  hookSecret: string;
  /** How long the hook has to answer, ms. */
  hookTimeoutMs: number;
  /** A hook that is slow, down or answers nonsense: open lets messages through, closed refuses them. */
  hookFail: 'open' | 'closed';
  /** File of blocked words and phrases, one a line. Empty: none. */
  filterWords: string;
  /** Comma-separated pattern presets (phone-cn, id-cn, email, card) and file:PATH. Empty: none. */
  filterPatterns: string;
  /** What a filter match does: mask it with `*`, or reject the message. */
  filterMode: 'mask' | 'reject';
  /** Webhook URLs, comma-separated. Empty: none (webhooks/config.ts). */
  webhookUrl: string;
  /** Signs webhook requests; required with a URL. */
  webhookSecret: string;
  /** JSON file of webhook endpoints with their own secrets and event filters. Empty: none. */
  webhooksFile: string;
  /** Events still failing after this long are dropped, ms. */
  webhookMaxAgeMs: number;
  /** How long a webhook receiver has to answer, ms. */
  webhookTimeoutMs: number;
  /** message.unreached: how long after a message its offline recipients are looked for (bursts coalesce), ms. */
  unreachedDelayMs: number;
}

interface OptionSpec {
  key: keyof ServerConfig;
  flag: string;
  env: string;
  help: string;
  kind: 'int' | 'string' | { choices: readonly string[] };
  min?: number;
  max?: number;
  /** Printed instead of the value in --help (secrets). */
  secret?: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'port', flag: 'port', env: 'ROOMCAST_PORT', kind: 'int', min: 0, max: 65535, help: 'TCP port to listen on (0 picks a free one)' },
  { key: 'host', flag: 'host', env: 'ROOMCAST_HOST', kind: 'string', help: 'address to listen on' },
  { key: 'dataDir', flag: 'data', env: 'ROOMCAST_DATA', kind: 'string', help: 'directory for the SQLite database (embedded mode)' },
  { key: 'heartbeatMs', flag: 'heartbeat', env: 'ROOMCAST_HEARTBEAT', kind: 'int', min: 100, help: 'ping interval in ms; silent connections are closed after two' },
  { key: 'maxText', flag: 'max-text', env: 'ROOMCAST_MAX_TEXT', kind: 'int', min: 1, help: 'longest message text, in characters' },
  { key: 'maxBinary', flag: 'max-binary', env: 'ROOMCAST_MAX_BINARY', kind: 'int', min: 1, help: 'largest binary message payload, in bytes' },
  { key: 'ratePerSec', flag: 'rate', env: 'ROOMCAST_RATE', kind: 'int', min: 0, help: 'frames a second per connection, bursts of twice that (0 = no limit)' },
  { key: 'userRate', flag: 'user-rate', env: 'ROOMCAST_USER_RATE', kind: 'int', min: 0, help: 'messages a second per user over all their connections and nodes, bursts of twice that (0 = no limit)' },
  { key: 'resumeBurst', flag: 'resume-burst', env: 'ROOMCAST_RESUME_BURST', kind: 'int', min: 0, help: 'frames a reconnecting user may send beyond --rate right after welcome, refilled over a minute (0 = off)' },
  { key: 'maxConnPerIp', flag: 'max-conn-per-ip', env: 'ROOMCAST_MAX_CONN_PER_IP', kind: 'int', min: 1, help: 'open connections allowed from one address' },
  { key: 'sendBufferLimit', flag: 'send-buffer', env: 'ROOMCAST_SEND_BUFFER', kind: 'int', min: 1024, help: 'unsent bytes after which a connection is a slow consumer (closed with 1013)' },
  { key: 'logLevel', flag: 'log-level', env: 'ROOMCAST_LOG_LEVEL', kind: { choices: LOG_LEVELS }, help: 'log level (logs are JSON lines on stderr)' },
  { key: 'auth', flag: 'auth', env: 'ROOMCAST_AUTH', kind: { choices: ['guest', 'jwt', 'both'] }, help: 'who may connect: guest (nickname), jwt (token required) or both' },
  { key: 'jwtSecret', flag: 'jwt-secret', env: 'ROOMCAST_JWT_SECRET', kind: 'string', secret: true, help: 'HS256 secret for JWTs, at least 32 characters (prefer the variable)' },
  { key: 'jwtPublicKey', flag: 'jwt-public-key', env: 'ROOMCAST_JWT_PUBLIC_KEY', kind: 'string', help: 'PEM file with the RS256/ES256/EdDSA public key that verifies JWTs' },
  { key: 'jwksUrl', flag: 'jwks-url', env: 'ROOMCAST_JWKS_URL', kind: 'string', help: 'JWKS URL that verifies JWTs (RS256/ES256/EdDSA)' },
  { key: 'jwtIssuer', flag: 'jwt-issuer', env: 'ROOMCAST_JWT_ISSUER', kind: 'string', help: 'required "iss" claim' },
  { key: 'jwtAudience', flag: 'jwt-audience', env: 'ROOMCAST_JWT_AUDIENCE', kind: 'string', help: 'required "aud" claim' },
  { key: 'authTimeoutMs', flag: 'auth-timeout', env: 'ROOMCAST_AUTH_TIMEOUT', kind: 'int', min: 100, help: 'ms a connection without a token has to send {"op":"auth"} (closed with 4408)' },
  { key: 'guestCreate', flag: 'guest-create', env: 'ROOMCAST_GUEST_CREATE', kind: { choices: ['on', 'off'] }, help: 'off: guests cannot create private rooms' },
  { key: 'apiKey', flag: 'api-key', env: 'ROOMCAST_API_KEY', kind: 'string', secret: true, help: 'key for the server-side HTTP API (messages, and the admin API: rooms, members, users); unset: messages off, admin API for admin tokens only' },
  { key: 'apiKeys', flag: 'api-keys', env: 'ROOMCAST_API_KEYS', kind: 'string', help: 'JSON file of scoped server API keys: [{"name","key","scope":"read"|"publish"|"admin"}], a key may be "sha256:HEX"; read at start' },
  { key: 'tlsCert', flag: 'tls-cert', env: 'ROOMCAST_TLS_CERT', kind: 'string', help: 'PEM certificate file: serve https and wss' },
  { key: 'tlsKey', flag: 'tls-key', env: 'ROOMCAST_TLS_KEY', kind: 'string', help: 'PEM private key file for --tls-cert' },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'ROOMCAST_TRUST_PROXY', kind: 'int', min: 0, max: 10, help: 'proxies in front whose X-Forwarded-For gives the client address (0: none)' },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'ROOMCAST_ALLOWED_ORIGINS', kind: 'string', help: 'comma-separated browser origins allowed to connect, or *; unset: same origin only' },
  { key: 'maxUnauthPerIp', flag: 'max-unauth-per-ip', env: 'ROOMCAST_MAX_UNAUTH_PER_IP', kind: 'int', min: 1, help: 'connections from one address still waiting to authenticate' },
  { key: 'postgresUrl', flag: 'postgres', env: 'ROOMCAST_POSTGRES_URL', kind: 'string', secret: true, help: 'cluster mode: PostgreSQL URL (postgres://user:pass@host/db) instead of SQLite' },
  { key: 'redisUrl', flag: 'redis', env: 'ROOMCAST_REDIS_URL', kind: 'string', secret: true, help: 'cluster mode: Redis URL (redis://host:6379) for fan-out and presence between nodes' },
  { key: 'redisCluster', flag: 'redis-cluster', env: 'ROOMCAST_REDIS_CLUSTER', kind: { choices: ['off', 'on'] }, help: 'on: the --redis URLs are seed nodes of a Redis Cluster (sharded pub/sub); without it, several URLs are independent shards' },
  { key: 'redisPrefix', flag: 'redis-prefix', env: 'ROOMCAST_REDIS_PREFIX', kind: 'string', help: 'prefix of every Redis key and channel; two clusters on one Redis need two prefixes' },
  { key: 'redisTimeoutMs', flag: 'redis-timeout', env: 'ROOMCAST_REDIS_TIMEOUT', kind: 'int', min: 100, help: 'ms a Redis command or heartbeat may take before the node stops acknowledging (unavailable) and /readyz answers 503' },
  { key: 'pgTimeoutMs', flag: 'pg-timeout', env: 'ROOMCAST_PG_TIMEOUT', kind: 'int', min: 100, help: 'ms a PostgreSQL statement may run (lock and idle-in-transaction timeouts follow from it); a node that cannot commit answers unavailable' },
  { key: 'nodeId', flag: 'node-id', env: 'ROOMCAST_NODE_ID', kind: 'string', help: 'this node\'s unique name in a cluster (default: host name and pid)' },
  { key: 'presenceLeaseMs', flag: 'presence-lease', env: 'ROOMCAST_PRESENCE_LEASE', kind: 'int', min: 300, help: 'ms after which a crashed node\'s users go offline (cluster mode)' },
  { key: 'handshakeTimeoutMs', flag: 'handshake-timeout', env: 'ROOMCAST_HANDSHAKE_TIMEOUT', kind: 'int', min: 100, help: 'ms a new TCP connection has to send its whole request head (HTTP or WebSocket upgrade); slower ones are dropped' },
  { key: 'maxPendingPerIp', flag: 'max-pending-per-ip', env: 'ROOMCAST_MAX_PENDING_PER_IP', kind: 'int', min: 1, help: 'TCP connections from one address that have not sent a whole request head yet (not applied with --trust-proxy)' },
  { key: 'maxConnections', flag: 'max-connections', env: 'ROOMCAST_MAX_CONNECTIONS', kind: 'int', min: 0, help: 'open connections in all (0: the file-descriptor limit minus 256); upgrades stop 32 short so /healthz still answers' },
  { key: 'sendTimeoutMs', flag: 'send-timeout', env: 'ROOMCAST_SEND_TIMEOUT', kind: 'int', min: 100, help: 'ms a connection may leave sent data unread before it is closed as a slow consumer (1013)' },
  { key: 'maxRoomsPerUser', flag: 'max-rooms-per-user', env: 'ROOMCAST_MAX_ROOMS_PER_USER', kind: 'int', min: 0, help: 'rooms one user may own at a time; admins are exempt (0 = no limit)' },
  { key: 'inviteRate', flag: 'invite-rate', env: 'ROOMCAST_INVITE_RATE', kind: 'int', min: 0, help: 'invites and invite links one user may make a minute (0 = no limit)' },
  { key: 'welcomeRooms', flag: 'welcome-rooms', env: 'ROOMCAST_WELCOME_ROOMS', kind: 'int', min: 1, max: 1000, help: 'rooms listed in welcome; the rest are paged with {"op":"rooms","cursor"}' },
  { key: 'editWindowMs', flag: 'edit-window', env: 'ROOMCAST_EDIT_WINDOW', kind: 'int', min: 0, help: 'ms after sending during which authors may edit or unsend a message (0 = always)' },
  { key: 'retentionDays', flag: 'retention-days', env: 'ROOMCAST_RETENTION_DAYS', kind: 'int', min: 0, max: 36500, help: 'days messages are kept in rooms without their own retention (0 = forever)' },
  { key: 'presenceGraceMs', flag: 'presence-grace', env: 'ROOMCAST_PRESENCE_GRACE', kind: 'int', min: 0, max: 600000, help: 'ms a user may be gone before a leave is announced (a reload announces nothing)' },
  { key: 'searchRate', flag: 'search-rate', env: 'ROOMCAST_SEARCH_RATE', kind: 'int', min: 0, help: 'searches one user may run a minute (0 = no limit)' },
  { key: 'integrityCheck', flag: 'integrity-check', env: 'ROOMCAST_INTEGRITY_CHECK', kind: { choices: ['quick', 'full', 'off'] }, help: 'SQLite check at start: quick (PRAGMA quick_check), full (integrity_check, slower on big files) or off' },
  { key: 'httpRate', flag: 'http-rate', env: 'ROOMCAST_HTTP_RATE', kind: 'int', min: 0, help: 'HTTP API requests a second per address, bursts of twice that (0 = no limit)' },
  { key: 'metricsToken', flag: 'metrics-token', env: 'ROOMCAST_METRICS_TOKEN', kind: 'string', secret: true, help: 'token that /metrics and /api/stats require (Authorization: Bearer TOKEN); unset: open' },
  { key: 'metricsAddress', flag: 'metrics-address', env: 'ROOMCAST_METRICS_ADDRESS', kind: 'string', help: 'HOST:PORT that serves /metrics and /api/stats instead of the main port' },
  { key: 'hookUrl', flag: 'hook-url', env: 'ROOMCAST_HOOK_URL', kind: 'string', help: 'moderation hook: http(s) URL POSTed each text message and edit before it is stored; answers allow, reject or replace (docs/integration.md)' },
  { key: 'hookSecret', flag: 'hook-secret', env: 'ROOMCAST_HOOK_SECRET', kind: 'string', secret: true, help: 'signs the hook\'s requests (X-Roomcast-Signature, HMAC-SHA256), at least 16 characters' },
  { key: 'hookTimeoutMs', flag: 'hook-timeout', env: 'ROOMCAST_HOOK_TIMEOUT', kind: 'int', min: 10, max: 60_000, help: 'ms the hook has to answer before --hook-fail applies' },
  { key: 'hookFail', flag: 'hook-fail', env: 'ROOMCAST_HOOK_FAIL', kind: { choices: ['open', 'closed'] }, help: 'a slow, down or wrong hook: open lets messages through (counted, logged), closed refuses them with unavailable' },
  { key: 'filterWords', flag: 'filter-words', env: 'ROOMCAST_FILTER_WORDS', kind: 'string', help: 'file of blocked words and phrases, one a line (UTF-8, # comments); case- and width-insensitive; reread on SIGHUP' },
  { key: 'filterPatterns', flag: 'filter-patterns', env: 'ROOMCAST_FILTER_PATTERNS', kind: 'string', help: 'comma-separated presets phone-cn, id-cn, email, card, and file:PATH (regular expressions, one a line); reread on SIGHUP' },
  { key: 'filterMode', flag: 'filter-mode', env: 'ROOMCAST_FILTER_MODE', kind: { choices: ['mask', 'reject'] }, help: 'a filter match: mask replaces each matched character with *, reject refuses the message (error rejected)' },
  { key: 'webhookUrl', flag: 'webhook-url', env: 'ROOMCAST_WEBHOOK_URL', kind: 'string', help: 'http(s) URL POSTed every event as signed JSON (several: comma-separated); delivered at least once, in order per room (docs/integration.md)' },
  { key: 'webhookSecret', flag: 'webhook-secret', env: 'ROOMCAST_WEBHOOK_SECRET', kind: 'string', secret: true, help: 'signs webhook requests (X-Roomcast-Signature, HMAC-SHA256), at least 16 characters; required with --webhook-url' },
  { key: 'webhooksFile', flag: 'webhooks-file', env: 'ROOMCAST_WEBHOOKS_FILE', kind: 'string', help: 'JSON file of webhook endpoints: [{"url","secret"?,"events"?:[types]}], each with its own secret and event filter' },
  { key: 'webhookMaxAgeMs', flag: 'webhook-max-age', env: 'ROOMCAST_WEBHOOK_MAX_AGE', kind: 'int', min: 1000, help: 'ms a webhook event is retried (exponential backoff with jitter) before it is dropped, logged and counted' },
  { key: 'webhookTimeoutMs', flag: 'webhook-timeout', env: 'ROOMCAST_WEBHOOK_TIMEOUT', kind: 'int', min: 100, max: 600_000, help: 'ms a webhook receiver has to answer before the attempt counts as failed' },
  { key: 'unreachedDelayMs', flag: 'unreached-delay', env: 'ROOMCAST_UNREACHED_DELAY', kind: 'int', min: 0, help: 'ms after a message before message.unreached goes out for members with no connection; a burst is one event' },
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
  auth: 'guest',
  jwtSecret: '',
  jwtPublicKey: '',
  jwksUrl: '',
  jwtIssuer: '',
  jwtAudience: '',
  authTimeoutMs: 10_000,
  guestCreate: 'on',
  apiKey: '',
  apiKeys: '',
  tlsCert: '',
  tlsKey: '',
  trustProxy: 0,
  allowedOrigins: '',
  maxUnauthPerIp: 50,
  postgresUrl: '',
  redisUrl: '',
  redisCluster: 'off',
  redisPrefix: 'rc:',
  redisTimeoutMs: 1_000,
  pgTimeoutMs: 5_000,
  nodeId: '',
  presenceLeaseMs: 15_000,
  userRate: 0,
  resumeBurst: DEFAULT_CHAT_CONFIG.resumeBurst,
  handshakeTimeoutMs: 5_000,
  maxPendingPerIp: 256,
  maxConnections: 0,
  sendTimeoutMs: DEFAULT_CHAT_CONFIG.sendTimeoutMs,
  maxRoomsPerUser: DEFAULT_CHAT_CONFIG.maxRoomsPerUser,
  inviteRate: DEFAULT_CHAT_CONFIG.inviteRate,
  welcomeRooms: DEFAULT_CHAT_CONFIG.welcomeRooms,
  editWindowMs: DEFAULT_CHAT_CONFIG.editWindowMs,
  retentionDays: DEFAULT_CHAT_CONFIG.retentionDays,
  presenceGraceMs: DEFAULT_CHAT_CONFIG.presenceGraceMs,
  searchRate: DEFAULT_CHAT_CONFIG.searchRate,
  integrityCheck: 'quick',
  httpRate: 50,
  metricsToken: '',
  metricsAddress: '',
  hookUrl: '',
  hookSecret: '',
  hookTimeoutMs: 2000,
  hookFail: 'open',
  filterWords: '',
  filterPatterns: '',
  filterMode: 'mask',
  webhookUrl: '',
  webhookSecret: '',
  webhooksFile: '',
  webhookMaxAgeMs: 86_400_000,
  webhookTimeoutMs: 10_000,
  unreachedDelayMs: 10_000,
};

/** A default as shown in --help and the README. */
export function defaultText(key: keyof ServerConfig): string {
  const v = DEFAULT_CONFIG[key];
  return v === '' ? 'none' : String(v);
}

/**
 * Checks that the settings make sense together (each was checked alone by resolveConfig).
 * Runs at start-up, before anything listens.
 */
export function checkConfig(c: ServerConfig): void {
  const sources = [c.jwtSecret && '--jwt-secret', c.jwtPublicKey && '--jwt-public-key', c.jwksUrl && '--jwks-url'].filter(Boolean);
  if (c.auth !== 'guest' && sources.length === 0) {
    throw new ConfigError(`--auth ${c.auth} needs a way to verify tokens: --jwt-secret, --jwt-public-key or --jwks-url`);
  }
  if (sources.length > 1) throw new ConfigError(`use one of ${sources.join(', ')}, not several`);
  if (c.jwtSecret && c.jwtSecret.length < 32) {
    throw new ConfigError('--jwt-secret must be at least 32 characters (a short HS256 secret can be guessed)');
  }
  if (c.jwksUrl && !/^https?:\/\//.test(c.jwksUrl)) throw new ConfigError(`--jwks-url must be an http(s) URL, got "${c.jwksUrl}"`);
  if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) throw new ConfigError('--tls-cert and --tls-key go together: give both or neither');
  if (c.apiKey && c.apiKey.length < 16) throw new ConfigError('--api-key must be at least 16 characters');
  parseOrigins(c.allowedOrigins);
  const cluster = clusterConfigProblem(c);
  if (cluster) throw new ConfigError(cluster);
  if (c.metricsToken && c.metricsToken.length < 16) throw new ConfigError('--metrics-token must be at least 16 characters');
  if (c.metricsAddress) parseHostPort(c.metricsAddress, '--metrics-address');
  if (c.hookUrl && !/^https?:\/\/[^/]/.test(c.hookUrl)) throw new ConfigError(`--hook-url must be an http(s) URL, got "${c.hookUrl}"`);
  if (c.hookSecret && c.hookSecret.length < 16) throw new ConfigError('--hook-secret must be at least 16 characters');
}

/** `HOST:PORT` (IPv6 in brackets) as a listen address. */
export function parseHostPort(raw: string, flag: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${flag} must be HOST:PORT such as 127.0.0.1:9090, got "${raw}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** The allowed-origins setting as a list; `*` alone means any; empty means same-origin only. */
export function parseOrigins(raw: string): string[] {
  const list = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of list) {
    if (o === '*') continue;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(`--allowed-origins: "${o}" is not an origin like https://chat.example.com`);
    }
    if (url.origin !== o) throw new ConfigError(`--allowed-origins: "${o}" is not an origin; write it as ${url.origin}`);
  }
  return list;
}

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
    return [`--${o.flag} ${kind}`, o.env, defaultText(o.key), o.help];
  });
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  return rows.map((r) => `  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[3]} (default: ${r[2]})`).join('\n');
}

import { readFileSync } from 'node:fs';
import { ConfigError, type ServerConfig } from '../config.js';
import { endpointName, urlEndpoint } from './http-endpoint.js';
import { MODERATION_EVENT_TYPES, WEBHOOK_EVENT_TYPES, type WebhookEndpoint } from './types.js';

// The webhook endpoints of the configuration: --webhook-url (one secret for all) and the
// entries of --webhooks-file (each with its own secret and event filter). Checked at start: a
// mistake stops the server with a ConfigError naming it.

/** Why `url` cannot be a webhook URL, or null when it can. */
function urlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http(s) URL';
  // fetch refuses such URLs (every delivery would fail), and the password would show in logs.
  if (u.username || u.password) return 'must not carry a user name or password: receivers know the server by the signature (X-Roomcast-Signature)';
  return null;
}

interface FileEntry {
  url: string;
  secret?: string;
  events?: string[];
}

/** The URL endpoints, or a ConfigError; none when no webhook is configured. */
export function webhookEndpointsFrom(c: ServerConfig, extraTypes: readonly string[] = []): WebhookEndpoint[] {
  const known = new Set<string>([...WEBHOOK_EVENT_TYPES, ...MODERATION_EVENT_TYPES, ...extraTypes]);
  const urls = c.webhookUrl.split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of urls) {
    const problem = urlProblem(u);
    if (problem) throw new ConfigError(`--webhook-url ${problem}, got "${u.replace(/\/\/[^@/]*@/, '//***@')}"`);
  }
  if (c.webhookSecret && c.webhookSecret.length < 16) throw new ConfigError('--webhook-secret must be at least 16 characters');
  if (urls.length > 0 && !c.webhookSecret) {
    throw new ConfigError('--webhook-url needs --webhook-secret: receivers check the signature to know a request came from this server');
  }
  const entries: FileEntry[] = urls.map((url) => ({ url }));
  if (c.webhooksFile) entries.push(...readFile(c.webhooksFile, known));
  const seen = new Set<string>();
  return entries.map((e) => {
    if (seen.has(e.url)) throw new ConfigError(`webhook URL ${endpointName(e.url)} is configured twice; give it once (with one event filter)`);
    seen.add(e.url);
    const secret = e.secret ?? c.webhookSecret;
    if (!secret) throw new ConfigError(`--webhooks-file: ${endpointName(e.url)} has no "secret" and there is no --webhook-secret; give one of them`);
    return urlEndpoint({ url: e.url, secret, types: e.events, timeoutMs: c.webhookTimeoutMs });
  });
}

function readFile(path: string, known: ReadonlySet<string>): FileEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--webhooks-file: cannot read ${path} as JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new ConfigError('--webhooks-file must hold a JSON array of {"url", "secret"?, "events"?}');
  return raw.map((e: unknown, i) => {
    const where = `--webhooks-file entry ${i}`;
    if (typeof e !== 'object' || e === null) throw new ConfigError(`${where} must be an object {"url", "secret"?, "events"?}`);
    const { url, secret, events } = e as Record<string, unknown>;
    if (typeof url !== 'string') throw new ConfigError(`${where}: "url" must be an http(s) URL`);
    const problem = urlProblem(url);
    if (problem) throw new ConfigError(`${where}: "url" ${problem}`);
    if (secret !== undefined && (typeof secret !== 'string' || secret.length < 16)) throw new ConfigError(`${where}: "secret" must be a string of at least 16 characters`);
    if (events !== undefined) {
      if (!Array.isArray(events) || events.some((t) => typeof t !== 'string')) throw new ConfigError(`${where}: "events" must be an array of event types`);
      const unknown = (events as string[]).filter((t) => !known.has(t));
      if (unknown.length > 0) throw new ConfigError(`${where}: unknown event types ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
    }
    return { url, ...(secret !== undefined ? { secret: secret as string } : {}), ...(events !== undefined ? { events: events as string[] } : {}) };
  });
}

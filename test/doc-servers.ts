import { OPTIONS, resolveConfig, type ServerConfig } from '../packages/server/src/config.js';

// Documentation examples name the server they need by `roomcast serve` flags; both doc tests
// (docs-protocol, docs-migrating) turn them into test-server options the same way.

/** Server options from `--flag value` pairs, read like `roomcast serve` reads them. */
export function serverOptions(flags: Record<string, string>): Partial<ServerConfig> {
  const resolved = resolveConfig(flags, {});
  const options: Partial<ServerConfig> = {};
  for (const flag of Object.keys(flags)) {
    const spec = OPTIONS.find((o) => o.flag === flag);
    if (!spec) throw new Error(`unknown server flag --${flag}`);
    Object.assign(options, { [spec.key]: resolved[spec.key] });
  }
  return options;
}

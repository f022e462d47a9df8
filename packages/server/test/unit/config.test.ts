import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, OPTIONS, defaultText, describeOptions, resolveConfig } from '../../src/config.js';

function configError(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    resolveConfig(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('bad_config');
    return err as ConfigError;
  }
  throw new Error(`resolveConfig accepted ${JSON.stringify({ flags, env })}`);
}

describe('resolveConfig', () => {
  it('uses the defaults with no flags and no environment', () => {
    const c = resolveConfig({}, {});
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', dataDir: './data', logLevel: 'info', sync: 'normal' });
  });

  it('reads ROOMCAST_* variables, ignoring empty ones', () => {
    const c = resolveConfig(
      {},
      { ROOMCAST_PORT: '9000', ROOMCAST_HOST: '127.0.0.1', ROOMCAST_DATA: '/var/rc', ROOMCAST_LOG_LEVEL: 'debug', ROOMCAST_SYNC: 'full', ROOMCAST_RATE: '0', ROOMCAST_MAX_TEXT: '' },
    );
    expect(c).toMatchObject({ port: 9000, host: '127.0.0.1', dataDir: '/var/rc', logLevel: 'debug', sync: 'full', ratePerSec: 0 });
    expect(c.maxText).toBe(DEFAULT_CONFIG.maxText);
  });

  it('lets a flag beat the environment', () => {
    const c = resolveConfig({ port: '7000', 'log-level': 'warn' }, { ROOMCAST_PORT: '9000', ROOMCAST_LOG_LEVEL: 'debug', ROOMCAST_HOST: '::1' });
    expect(c).toMatchObject({ port: 7000, logLevel: 'warn', host: '::1' });
    // A valid flag also wins over a bad variable: the variable is never parsed.
    expect(resolveConfig({ port: '1' }, { ROOMCAST_PORT: 'junk' }).port).toBe(1);
  });

  it('maps every option from its flag and its variable', () => {
    for (const o of OPTIONS) {
      const value = typeof o.kind === 'object' ? o.kind.choices[0]! : o.kind === 'int' ? String((o.min ?? 0) + 1) : 'x';
      const expected = o.kind === 'int' ? Number(value) : value;
      expect(resolveConfig({ [o.flag]: value }, {})[o.key], o.flag).toBe(expected);
      expect(resolveConfig({}, { [o.env]: value })[o.key], o.env).toBe(expected);
    }
  });

  it('refuses bad values with a message naming the flag or variable', () => {
    expect(configError({ port: 'abc' }).message).toMatch(/^--port must be a whole number.*"abc"/);
    expect(configError({ port: '-1' }).message).toMatch(/--port/);
    expect(configError({ port: '80.5' }).message).toMatch(/--port/);
    expect(configError({ port: '70000' }).message).toMatch(/--port must be at most 65535/);
    expect(configError({ 'log-level': 'loud' }).message).toMatch(/^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
    expect(configError({ sync: 'sometimes' }).message).toMatch(/--sync must be one of normal, full/);
    expect(configError({ heartbeat: '99' }).message).toMatch(/--heartbeat must be a whole number of at least 100/);
    expect(configError({ host: '  ' }).message).toMatch(/--host must not be empty/);
  });

  it('names the variable, not the flag, when the bad value came from the environment', () => {
    expect(configError({}, { ROOMCAST_RATE: 'fast' }).message).toMatch(/^ROOMCAST_RATE must be a whole number/);
    expect(configError({}, { ROOMCAST_LOG_LEVEL: 'loud' }).message).toMatch(/^ROOMCAST_LOG_LEVEL must be one of/);
    expect(configError({}, { ROOMCAST_PORT: '70000' }).message).toMatch(/^ROOMCAST_PORT must be at most 65535/);
  });
});

describe('describeOptions', () => {
  it('lists every flag with its variable, help and default, one line each', () => {
    const text = describeOptions();
    const lines = text.split('\n');
    expect(lines).toHaveLength(OPTIONS.length);
    OPTIONS.forEach((o, i) => {
      const line = lines[i]!;
      expect(line).toContain(`--${o.flag} `);
      expect(line).toContain(o.env);
      expect(line).toContain(o.help);
      expect(line).toContain(`(default: ${defaultText(o.key)})`);
    });
    expect(text).toContain('--log-level fatal|error|warn|info|debug|trace|silent');
    expect(text).toContain('--port N');
  });
});

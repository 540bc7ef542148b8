import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { explainConfigError } from './explain-error.ts';
import { ConfigSchema, type PorticoConfig } from './schema.ts';

/** Raised when the configuration cannot be used; the message names the key and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables that override the file, and the config key each one sets. */
export const ENV_OVERRIDES: ReadonlyArray<{
  env: string;
  path: string[];
  /** `list`: comma- or space-separated values. */
  type: 'string' | 'integer' | 'list';
}> = [
  { env: 'PORTICO_HOST', path: ['host'], type: 'string' },
  { env: 'PORTICO_PORT', path: ['port'], type: 'integer' },
  { env: 'PORTICO_PUBLIC_URL', path: ['publicUrl'], type: 'string' },
  { env: 'PORTICO_DATA_DIR', path: ['dataDir'], type: 'string' },
  { env: 'PORTICO_ENV', path: ['env'], type: 'string' },
  { env: 'PORTICO_LOG_LEVEL', path: ['logLevel'], type: 'string' },
  { env: 'PORTICO_CORS_ORIGINS', path: ['http', 'cors', 'origins'], type: 'list' },
  { env: 'PORTICO_METRICS_TOKEN', path: ['http', 'metricsToken'], type: 'string' },
  { env: 'PORTICO_AUTH_MODE', path: ['auth', 'mode'], type: 'string' },
  { env: 'PORTICO_OIDC_ISSUER', path: ['auth', 'issuer'], type: 'string' },
  { env: 'PORTICO_AUTH_AUDIENCE', path: ['auth', 'audience'], type: 'string' },
  { env: 'PORTICO_NATS_URL', path: ['backbone', 'url'], type: 'string' },
  { env: 'PORTICO_POSTGRES_URL', path: ['store', 'url'], type: 'string' },
  {
    env: 'PORTICO_GATEWAY_TOKEN_EXCHANGE_SECRET',
    path: ['gateway', 'tokenExchange', 'clientSecret'],
    type: 'string',
  },
];

export type ConfigSources = {
  /** Explicit config file; when absent, `./portico.config.json` is used if it exists. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Highest precedence: CLI flags and programmatic overrides (tests). */
  overrides?: Record<string, unknown>;
  cwd?: string;
};

/** defaults < file < environment < overrides. Throws ConfigError naming the bad key. */
export function loadConfig(sources: ConfigSources = {}): PorticoConfig {
  if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', isAbsoluteUrl);
  const cwd = sources.cwd ?? process.cwd();
  const env = sources.env ?? process.env;
  let raw: Record<string, unknown> = {};

  const file = sources.file ? resolve(cwd, sources.file) : resolve(cwd, 'portico.config.json');
  if (sources.file && !existsSync(file))
    throw new ConfigError(`config file ${file} does not exist`);
  if (existsSync(file)) raw = readConfigFile(file);

  for (const { env: name, path, type } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (type === 'integer') {
      if (!/^-?\d+$/.test(value))
        throw new ConfigError(`${name}: expected an integer, got ${JSON.stringify(value)}`);
      parsed = Number(value);
    }
    if (type === 'list') parsed = value.split(/[\s,]+/).filter((v) => v.length > 0);
    setPath(raw, path, parsed);
    // A URL for NATS / PostgreSQL implies that engine.
    if (name === 'PORTICO_NATS_URL') setPath(raw, ['backbone', 'kind'], 'nats');
    if (name === 'PORTICO_POSTGRES_URL') setPath(raw, ['store', 'kind'], 'postgres');
  }
  raw = deepMerge(raw, sources.overrides ?? {});

  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw));
  const firstError = Value.Errors(ConfigSchema, withDefaults).First();
  if (firstError) throw new ConfigError(explainConfigError(firstError));
  const config = withDefaults as PorticoConfig;
  if (config.auth.mode === 'oidc' && !config.auth.issuer)
    throw new ConfigError(
      'invalid configuration at "auth.issuer": required when auth.mode is "oidc"',
    );
  // Credentials with any origin would let every site read cookie-authenticated answers.
  if (config.gateway.cors.credentials && config.gateway.cors.origins.includes('*'))
    throw new ConfigError(
      'invalid configuration at "gateway.cors.origins": "*" cannot be combined with gateway.cors.credentials; list the exact origins',
    );
  return config;
}

/** The file's JSON object; a file that cannot be read or parsed is a ConfigError naming it. */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    // A directory, no permission, …: say that, not "not valid JSON".
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(raw)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(
  base: Record<string, unknown>,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAbsoluteUrl(value: string): boolean {
  return URL.canParse(value);
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from './json-schema.ts';
import { loadConfig } from './load-config.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** What an editor does with `"$schema": "./portico.config.schema.json"`. */
function editorValidator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(configJsonSchema());
}

describe('portico config schema', () => {
  const validate = editorValidator();

  it.each([
    ['an empty file', {}],
    ['one key', { port: 9000, $schema: './portico.config.schema.json' }],
    ['a cluster node', { store: { kind: 'postgres', url: 'postgres://x@h/db' } }],
    ['a NATS backbone', { backbone: { kind: 'nats', url: 'nats://127.0.0.1:4222' } }],
    ['a nested section in part', { events: { retention: { maxAgeSeconds: 3600 } } }],
  ])('accepts what the loader accepts: %s', (_, file) => {
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts every default', () => {
    const defaults = loadConfig({ cwd: mkdtempSync(join(tmpdir(), 'portico-config-')), env: {} });
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    [{ port: 70000 }],
    [{ colour: 'blue' }],
    [{ store: { kind: 'postgres' } }],
    [{ logLevel: 'verbose' }],
  ])('refuses what the loader refuses: %j', (file) => {
    expect(validate(file)).toBe(false);
  });
});

/**
 * `portico contract check` on before/after fixture specs with known breaking and
 * non-breaking changes: the comparisons in-process, then the CLI itself (exit codes,
 * `--format json`, `--against` a running hub, `portico app publish`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { AsyncApiParser } from './asyncapi-document.ts';
import { compareContractFiles } from './contract-check.ts';
import { toReport, type ContractChange } from './contract-change.ts';
import { ContractInputError, readContractFile } from './contract-files.ts';
import { ManifestValidator } from './validate-manifest.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const tools = { validator: new ManifestValidator(), asyncapi: new AsyncApiParser() };

async function compare(base: string, next: string, level?: 'FULL') {
  return compareContractFiles(
    await readContractFile(fixture(base), tools),
    await readContractFile(fixture(next), tools),
    level ? { level } : {},
  );
}

const breaking = (changes: ContractChange[]) =>
  changes
    .filter((c) => c.severity === 'breaking')
    .map(
      (c) =>
        `${c.code} ${c.location.replace(/^.*?: /, '').replace(/^(json-schema) .*$/, '$1')}${c.pointer ? ` ${c.pointer}` : ''}`,
    )
    .sort();

describe('OpenAPI', () => {
  it('finds each breaking change of breaking.yaml, with the direction that matters', async () => {
    expect(breaking(await compare('openapi/base.yaml', 'openapi/breaking.yaml'))).toEqual([
      'enum-value-removed GET /invoices → response 200 application/json /components/schemas/Invoice/properties/status/enum',
      'enum-value-removed POST /invoices → response 201 application/json /components/schemas/Invoice/properties/status/enum',
      'maximum-added GET /invoices → query parameter "limit" /maximum',
      'operation-removed DELETE /invoices/{id}',
      'required-added POST /invoices → request body application/json /components/schemas/InvoiceInput/required',
      'required-parameter-added GET /invoices → query parameter "tenant"',
      'response-media-type-removed GET /invoices/{id} → response 200 application/json',
    ]);
  });

  it('passes compatible.yaml (renamed path parameter, widened request, narrowed response, additions)', async () => {
    const changes = await compare('openapi/base.yaml', 'openapi/compatible.yaml');
    expect(breaking(changes)).toEqual([]);
    expect(changes.map((c) => c.code).sort()).toEqual([
      'operation-added',
      'parameter-added',
      'response-added',
    ]);
  });

  it('reads the opposite direction the other way round: base.yaml after breaking.yaml', async () => {
    // Undoing the changes: the operation comes back (info), the required parameter goes (a
    // warning), the response enum narrows back and the request body requires less (both
    // compatible), but application/xml, which clients of breaking.yaml read, is gone.
    const changes = await compare('openapi/breaking.yaml', 'openapi/base.yaml');
    expect(breaking(changes)).toEqual([
      'response-media-type-removed GET /invoices/{id} → response 200 application/xml',
    ]);
    expect(changes.map((c) => c.code)).toContain('parameter-removed');
  });
});

describe('AsyncAPI', () => {
  it('finds removed channels and operations and incompatible payloads (recursive ones too)', async () => {
    expect(breaking(await compare('asyncapi/base.yaml', 'asyncapi/breaking.yaml'))).toEqual([
      'channel-removed channel invoiceVoided',
      'operation-removed operation sendInvoiceVoided',
      'required-added channel paymentReceived → message paymentReceived payload /required',
      'type-changed channel invoiceCreated → message invoiceCreated payload /properties/lines/items/properties/amount/type',
      'type-changed channel invoiceCreated → message invoiceCreated payload /properties/total/type',
    ]);
  });

  it('passes compatible.yaml (optional field sent, requirement relaxed on receive, new channel)', async () => {
    const changes = await compare('asyncapi/base.yaml', 'asyncapi/compatible.yaml');
    expect(breaking(changes)).toEqual([]);
    expect(changes.map((c) => c.code).sort()).toEqual(['channel-added', 'operation-added']);
  });
});

describe('JSON Schema', () => {
  it('checks BACKWARD by default, like the registry', async () => {
    expect(breaking(await compare('json-schema/base.json', 'json-schema/breaking.json'))).toEqual([
      'max-length-added json-schema /properties/id/maxLength',
      'required-added json-schema /required',
    ]);
    expect(await compare('json-schema/base.json', 'json-schema/compatible.json')).toEqual([]);
  });

  it('honours another level', async () => {
    // FULL: the new enum value "medium" cannot be read by the old schema.
    expect(
      breaking(await compare('json-schema/base.json', 'json-schema/compatible.json', 'FULL')),
    ).toEqual(['enum-value-removed json-schema /properties/severity/enum']);
  });
});

describe('app manifests', () => {
  it('combines API, published and consumed event changes', async () => {
    expect(breaking(await compare('app/billing.v1.json', 'app/billing.v2-breaking.json'))).toEqual(
      expect.arrayContaining([
        'event-no-longer-published published event billing.invoice.voided',
        'operation-removed DELETE /invoices/{id}',
        'required-added consumed event payment.payment.received payload /required',
        'type-changed published event billing.invoice.created payload /$defs/line/properties/amount/type',
      ]),
    );
    // A required `currency` added to what the app publishes: old consumers read it fine.
    expect(
      breaking(await compare('app/billing.v1.json', 'app/billing.v2-compatible.json')),
    ).toEqual([]);
  });

  it('refuses files that are not valid contracts, or unlike kinds', async () => {
    await expect(compare('openapi/base.yaml', 'asyncapi/base.yaml')).rejects.toThrow(
      /compare like with like/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'portico-contract-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'openapi: 3.1.0\ninfo: { title: x }\npaths: {}\n');
      writeFileSync(join(dir, 'broken.json'), '{"type": ');
      writeFileSync(join(dir, 'app.json'), JSON.stringify({ name: 'a', owner: {}, domain: 'x' }));
      await expect(readContractFile(join(dir, 'bad.yaml'), tools)).rejects.toThrow(
        /not a valid OpenAPI 3.x document[\s\S]*\/info\/version/,
      );
      await expect(readContractFile(join(dir, 'broken.json'), tools)).rejects.toBeInstanceOf(
        ContractInputError,
      );
      await expect(readContractFile(join(dir, 'app.json'), tools)).rejects.toThrow(/\/owner\/team/);
      // Missing required fields: still recognised as a manifest, and said what is missing.
      writeFileSync(
        join(dir, 'billing.json'),
        JSON.stringify({ name: 'billing', owner: { team: 't' } }),
      );
      await expect(readContractFile(join(dir, 'billing.json'), tools)).rejects.toThrow(
        /not a valid app manifest[\s\S]*\/domain/,
      );
      await expect(readContractFile(join(dir, 'missing.json'), tools)).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs the CLI on Node 24 (this process), as CI would. */
function portico(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', MAIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Each case starts a few CLI processes; the machine may be busy, so allow them time.
describe('the portico CLI', { timeout: 120_000 }, () => {
  let t: TestHub;
  let url: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestHub();
    url = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
    env = { PORTICO_TOKEN: await t.token('acme', ['schemas:write', 'events:read']) };
  });
  afterAll(() => t.close());

  it('exits 1 on a breaking change, 0 otherwise, 2 on invalid input', async () => {
    const bad = await portico([
      'contract',
      'check',
      fixture('openapi/breaking.yaml'),
      '--base',
      fixture('openapi/base.yaml'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ breaking .*DELETE \/invoices\/\{id\}/);
    expect(bad.stdout).toMatch(/7 breaking changes/);

    const ok = await portico([
      'contract',
      'check',
      fixture('openapi/compatible.yaml'),
      fixture('json-schema/compatible.json'),
      '--base',
      fixture('openapi/base.yaml'),
      '--base',
      fixture('json-schema/base.json'),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/no breaking changes/);

    const invalid = await portico([
      'contract',
      'check',
      fixture('openapi/base.yaml'),
      '--base',
      fixture('asyncapi/base.yaml'),
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/compare like with like/);
    expect((await portico(['contract', 'check'])).code).toBe(2);
  });

  it('--format json prints the report', async () => {
    const res = await portico([
      'contract',
      'check',
      fixture('asyncapi/breaking.yaml'),
      '--base',
      fixture('asyncapi/base.yaml'),
      '--format',
      'json',
    ]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as ReturnType<typeof toReport>;
    expect(report).toMatchObject({ breaking: true, summary: { breaking: 5 } });
    expect(report.changes[0]).toEqual({
      severity: 'breaking',
      code: expect.any(String),
      location: expect.stringMatching(/^asyncapi /),
      detail: expect.any(String),
      ...(report.changes[0]!.pointer !== undefined ? { pointer: expect.any(String) } : {}),
    });
  });

  it('publishes with `portico app publish`', async () => {
    const first = await portico(
      ['app', 'publish', fixture('app/billing.v1.json'), '--hub', url],
      env,
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/billing: registered as revision 1/);
  });

  it('checks manifests and API files against the hub', async () => {
    // The manifest: the hub runs the publish checks without publishing.
    const manifest = await portico(
      [
        'contract',
        'check',
        fixture('app/billing.v2-breaking.json'),
        '--against',
        url,
        '--format',
        'json',
      ],
      env,
    );
    expect(manifest.code).toBe(1);
    expect(JSON.parse(manifest.stdout).changes.map((c: ContractChange) => c.code)).toContain(
      'event-no-longer-published',
    );

    // An API file against the API the hub holds for the app.
    const api = await portico(
      ['contract', 'check', fixture('openapi/breaking.yaml'), '--against', url, '--app', 'billing'],
      env,
    );
    expect(api.code).toBe(1);
    expect(api.stdout).toMatch(/operation-removed/);
    const compatible = await portico(
      [
        'contract',
        'check',
        fixture('openapi/compatible.yaml'),
        '--against',
        url,
        '--app',
        'billing',
        '--api',
        'invoices',
      ],
      env,
    );
    expect(compatible.code).toBe(0);
  });

  it('checks AsyncAPI and JSON Schema files against the hub', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-against-'));
    try {
      // The app's events as the hub serves them, edited: `total` becomes a string.
      const served = await fetch(`${url}/v1/catalog/apps/billing/asyncapi.json`, {
        headers: { authorization: `Bearer ${env.PORTICO_TOKEN}` },
      });
      const doc = (await served.json()) as {
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      };
      writeFileSync(join(dir, 'same.json'), JSON.stringify(doc));
      doc.components.schemas['billing.billing.invoice.created']!.properties.total = {
        type: 'string',
      };
      writeFileSync(join(dir, 'events.json'), JSON.stringify(doc));
      const same = await portico(
        ['contract', 'check', join(dir, 'same.json'), '--against', url, '--app', 'billing'],
        env,
      );
      expect(same.code).toBe(0);
      const changed = await portico(
        ['contract', 'check', join(dir, 'events.json'), '--against', url, '--app', 'billing'],
        env,
      );
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(
        /channel billing.invoice.created → message billing payload at \/properties\/total\/type/,
      );

      // A JSON Schema file against a registry subject (its latest version, BACKWARD).
      const registered = await fetch(
        `${url}/v1/registry/subjects/incident.ticket.created/versions`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${env.PORTICO_TOKEN}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ schema: readFileSync(fixture('json-schema/base.json'), 'utf8') }),
        },
      );
      expect(registered.status).toBe(200);
      const schema = await portico(
        [
          'contract',
          'check',
          fixture('json-schema/breaking.json'),
          '--against',
          url,
          '--subject',
          'incident.ticket.created',
          '--format',
          'json',
        ],
        env,
      );
      expect(schema.code).toBe(1);
      expect(
        (JSON.parse(schema.stdout) as { changes: ContractChange[] }).changes.map((c) => c.code),
      ).toEqual(['max-length-added', 'required-added']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a breaking publish unless forced', async () => {
    // Refused publish: exit 1 with the report; forced: accepted.
    const refused = await portico(
      ['app', 'publish', fixture('app/billing.v2-breaking.json'), '--hub', url],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/409 Conflict/);
    const forced = await portico(
      ['app', 'publish', fixture('app/billing.v2-breaking.json'), '--hub', url, '--force'],
      env,
    );
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/billing: updated as revision 2 \(breaking changes forced\)/);

    // Unknown app: nothing to compare. A missing --app: usage error.
    const none = await portico(
      ['contract', 'check', fixture('openapi/base.yaml'), '--against', url, '--app', 'nobody'],
      env,
    );
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/nothing to compare/);
    expect(
      (await portico(['contract', 'check', fixture('openapi/base.yaml'), '--against', url], env))
        .code,
    ).toBe(2);
  });

  it('prints the manifest schema', async () => {
    const res = await portico(['app', 'schema']);
    expect(res.code).toBe(0);
    const schema = JSON.parse(res.stdout) as { $schema: string; required: string[] };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['name', 'owner', 'domain']);
  });
});

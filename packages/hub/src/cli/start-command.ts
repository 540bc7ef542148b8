import { parseCommandArgs } from './parse-command-args.ts';
import { setFlagsFromString } from 'node:v8';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { buildHub, type Hub } from '../app.ts';
import { isSystemError } from './system-error.ts';

export async function runStart(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const overrides: Record<string, unknown> = {};
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port))
      throw Object.assign(new Error(`--port must be a number, got "${values.port}"`), {
        code: 'ERR_PARSE_ARGS_INVALID',
      });
    overrides.port = Number(values.port);
  }
  if (values.host !== undefined) overrides.host = values.host;
  if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
  const config = loadConfig({ file: values.config, overrides });

  guardRegexBacktracking();
  let hub: Hub;
  try {
    hub = await buildHub(config);
  } catch (error) {
    // The machine said no (the data dir is a file, no permission, …): one line, no stack.
    if (!isSystemError(error)) throw error;
    process.stderr.write(`portico start: ${error.message}\n`);
    return 1;
  }
  let address: string;
  try {
    address = await hub.server.listen({ port: config.port, host: config.host });
  } catch (error) {
    await hub.close();
    // The port is taken, the host is not this machine's, …
    if (!isSystemError(error)) throw error;
    process.stderr.write(
      `portico start: cannot listen on ${config.host}:${config.port}: ${error.message}\n`,
    );
    return 1;
  }
  const url =
    config.publicUrl ?? address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  const lines = [
    '',
    `  Portico is listening on ${url}`,
    `    API         ${url}/v1`,
    `    OpenAPI     ${url}/openapi.json`,
    `    Health      ${url}/healthz   Ready ${url}/readyz   Metrics ${url}/metrics`,
    `    Data dir    ${resolve(config.dataDir)}  (event log: ${config.backbone.kind}, store: ${config.store.kind})`,
  ];
  if (hub.devIssuer) {
    lines.push(
      '',
      '  !! DEVELOPMENT AUTH MODE: the hub signs its own tokens with a key in the data dir.',
      '  !! Do not expose this hub: set auth.mode = "oidc" with your issuer for production.',
      '',
      '  Mint a development token:',
      `    npx portico token --tenant acme --scopes "events:publish events:read" --data-dir ${config.dataDir}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n\n');

  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      hub.server.log.info({ signal }, 'shutting down: draining in-flight requests');
      const force = setTimeout(() => {
        hub.server.log.error('shutdown timed out; exiting');
        done(1);
      }, config.shutdownTimeoutSeconds * 1000);
      force.unref();
      hub.close().then(
        () => {
          clearTimeout(force);
          hub.server.log.info('stopped cleanly');
          done(0);
        },
        (err: unknown) => {
          hub.server.log.error({ err }, 'shutdown failed');
          done(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * A regex that backtracks catastrophically falls back to V8's linear-time engine instead of
 * holding the event loop: tenants write regexes the hub runs (BFF shapes' JSONata regexes,
 * `/(a+)+b/` on 27 characters held it 15 s; schemas stored before patterns ran on RE2). Set
 * before the hub compiles any. The test workers get the same flag (vitest.config.ts).
 */
const REGEX_FALLBACK_FLAG = '--enable-experimental-regexp-engine-on-excessive-backtracks';

function guardRegexBacktracking(): void {
  setFlagsFromString(REGEX_FALLBACK_FLAG);
}

import { parseCommandArgs } from './parse-command-args.ts';
import { SCOPES } from '../auth/principal.ts';
import { mintDevToken } from './dev-token.ts';

export async function runToken(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string', default: 'events:publish events:read' },
      subject: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!values.tenant) {
    process.stderr.write('portico token: --tenant is required\n');
    return 2;
  }
  const scopes = values.scopes.split(/[\s,]+/).filter(Boolean);
  if (scopes.length === 0) {
    // A token without scopes is refused by every route: surely not what was meant.
    process.stderr.write(`portico token: --scopes is empty; known: ${SCOPES.join(', ')}\n`);
    return 2;
  }
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    process.stderr.write(
      `portico token: unknown scope(s) ${unknown.join(', ')}; known: ${SCOPES.join(', ')}\n`,
    );
    return 2;
  }
  if (!/^\d+$/.test(values.ttl)) {
    process.stderr.write('portico token: --ttl must be a number of seconds\n');
    return 2;
  }
  let token: string;
  try {
    token = await mintDevToken({
      dataDir: values['data-dir'],
      tenant: values.tenant,
      scopes,
      subject: values.subject,
      ttlSeconds: Number(values.ttl),
    });
  } catch (error) {
    // A tenant or ttl the issuer refuses, or a hub not in development auth mode.
    process.stderr.write(`portico token: ${(error as Error).message.replace(/^mint: /, '')}\n`);
    return 2;
  }
  process.stdout.write(token + '\n');
  return 0;
}

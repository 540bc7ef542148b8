import { randomUUID } from 'node:crypto';
import { parseCommandArgs } from './parse-command-args.ts';
import { fetchHub, readHubResponse, resolveHubTarget } from './hub-client.ts';

export async function runPublish(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      type: { type: 'string' },
      source: { type: 'string', default: 'urn:portico:cli' },
      data: { type: 'string' },
      id: { type: 'string' },
      subject: { type: 'string' },
      hub: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!values.type) {
    process.stderr.write('portico publish: --type is required (domain.entity.action)\n');
    return 2;
  }
  let data: unknown;
  if (values.data !== undefined) {
    try {
      data = JSON.parse(values.data);
    } catch {
      process.stderr.write('portico publish: --data must be JSON\n');
      return 2;
    }
  }
  const event = {
    specversion: '1.0',
    id: values.id ?? randomUUID(),
    source: values.source,
    type: values.type,
    time: new Date().toISOString(),
    ...(values.subject ? { subject: values.subject } : {}),
    ...(data !== undefined ? { datacontenttype: 'application/json', data } : {}),
  };
  try {
    // No token, an unreachable hub or an error answer: one line, not a stack trace.
    const target = await resolveHubTarget(values, ['events:publish']);
    const response = await fetchHub(`${target.url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        authorization: `Bearer ${target.token}`,
      },
      body: JSON.stringify(event),
    });
    process.stdout.write(JSON.stringify(await readHubResponse(response)) + '\n');
    return 0;
  } catch (error) {
    process.stderr.write(`portico publish: ${(error as Error).message}\n`);
    return 1;
  }
}

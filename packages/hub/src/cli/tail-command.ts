import { setTimeout as sleep } from 'node:timers/promises';
import { parseCommandArgs } from './parse-command-args.ts';
import { fetchHub, readHubResponse, resolveHubTarget, type HubTarget } from './hub-client.ts';

/** `more`: the log has more to read after `next` (a page may stop short, even empty). */
type Page = { events: unknown[]; next: number; more: boolean };

/** Prints events as JSON lines, from a position, optionally following new ones. */
export async function runTail(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      topic: { type: 'string' },
      from: { type: 'string', default: '0' },
      follow: { type: 'boolean', short: 'f', default: false },
      hub: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!/^\d+$/.test(values.from)) {
    process.stderr.write('portico tail: --from must be a position (a number)\n');
    return 2;
  }
  let target: HubTarget;
  try {
    target = await resolveHubTarget(values, ['events:read']);
  } catch (error) {
    process.stderr.write(`portico tail: ${(error as Error).message}\n`);
    return 2;
  }
  let after = Number(values.from);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  while (!stop.signal.aborted) {
    const query = new URLSearchParams({
      after: String(after),
      limit: '500',
      ...(values.topic ? { topic: values.topic } : {}),
    });
    let page: Page;
    try {
      page = (await readHubResponse(
        await fetchHub(`${target.url}/v1/events?${query}`, {
          headers: { authorization: `Bearer ${target.token}` },
          signal: stop.signal,
        }),
      )) as Page;
    } catch (error) {
      if (stop.signal.aborted) break;
      process.stderr.write(`portico tail: ${(error as Error).message}\n`);
      return 1;
    }
    for (const event of page.events) process.stdout.write(JSON.stringify(event) + '\n');
    after = page.next;
    if (!page.more) {
      if (!values.follow) break;
      await sleep(1000, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  }
  return 0;
}

/**
 * Debian's Chromium for browser tests and the demo's screenshots: never a downloaded
 * browser. Headless and quiet on the network (this machine's network is closed, and
 * Chromium's background connections would be refused many at a time).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Cross-site iframes in the page's own renderer. With site isolation, Playwright lost the
  // portal demo's sandboxed widget iframe now and then on this 2-core VM (page.frames() held
  // only the main frame, for good, while the widget ran); without out-of-process iframes
  // there is no frame target to attach, so no such race. Origins, sandboxing and
  // postMessage, which the tests pin, behave the same in one process.
  '--disable-site-isolation-trials',
];

/** Launches `PORTICO_CHROMIUM` or /usr/bin/chromium; says how to install it when absent. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const executablePath = process.env.PORTICO_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath))
    throw new Error(
      `Chromium not found at ${executablePath}: apt-get install -y chromium (or set PORTICO_CHROMIUM)`,
    );
  return chromium.launch({ executablePath, args: [...ARGS, ...extraArgs] });
}

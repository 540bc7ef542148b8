import type { Frame, Page } from 'playwright-core';

/**
 * The demo portal's page, as a user sees it: used by the smoke test and the screenshot
 * script, so both drive the same selectors.
 */
export type PortalPage = {
  page: Page;
  widget(): Promise<Frame>;
  /** Publishes an incident with the form; resolves to its id once the hub accepted it. */
  publish(incident: {
    title: string;
    severity: 'high' | 'low';
    customer?: string;
  }): Promise<string>;
  /** Waits until the shell has mounted every micro-frontend and they show their first data. */
  ready(): Promise<void>;
};

export async function openPortal(page: Page, shellUrl: string): Promise<PortalPage> {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(shellUrl);
  const widget = async () => {
    const handle = await page.waitForSelector('iframe#widget');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('the widget iframe has no frame');
    return frame;
  };
  return {
    page,
    widget,
    async ready() {
      try {
        await page.locator('incidents-list li').first().waitFor();
        await page.getByTestId('open-incidents').filter({ hasText: /\d/ }).waitFor();
        await (await widget()).getByText('bridged to').waitFor();
      } catch (error) {
        throw new Error(
          `the portal did not get ready (${problems.join('; ') || 'no page error'}): ${(error as Error).message}`,
        );
      }
    },
    async publish({ title, severity, customer = 'globex' }) {
      await page.getByLabel('title').fill(title);
      await page.getByLabel('severity').selectOption(severity);
      await page.getByLabel('customer').selectOption(customer);
      await page.getByTestId('publish').click();
      const status = page.getByTestId('publish-status');
      await status.filter({ hasText: /published|refused/ }).waitFor();
      const text = (await status.textContent()) ?? '';
      const id = /published (INC-\d+)/.exec(text)?.[1];
      if (!id) throw new Error(`the hub did not accept the event: ${text}`);
      return id;
    },
  };
}

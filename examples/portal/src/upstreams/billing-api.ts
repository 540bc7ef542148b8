import { listen, sendJson, type Listening } from '../servers/listen.ts';

type Account = { customer: string; plan: string; mrr: number; overdueInvoices: number };

/**
 * The "billing" upstream service: accounts and a summary, proxied by the gateway as
 * `/api/billing/v1/…`. Static figures: the demo is about the portal, not about billing.
 * The `canary` variant is the next release, reached only through a dictionary override set
 * (testing in production); it says which one answered.
 */
export async function startBillingApi(
  port: number,
  variant: 'stable' | 'canary' = 'stable',
): Promise<Listening> {
  const accounts: Account[] = [
    { customer: 'globex', plan: 'enterprise', mrr: 42_000, overdueInvoices: 0 },
    { customer: 'initech', plan: 'business', mrr: 9_800, overdueInvoices: 2 },
    { customer: 'umbrella', plan: 'business', mrr: 12_500, overdueInvoices: 1 },
  ];
  return listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/summary') {
      sendJson(
        res,
        200,
        {
          variant,
          currency: 'EUR',
          mrr: accounts.reduce((sum, a) => sum + a.mrr, 0),
          overdueInvoices: accounts.reduce((sum, a) => sum + a.overdueInvoices, 0),
          accounts: accounts.length,
        },
        // Lets the gateway's response cache answer the dashboard's repeated reads.
        { 'cache-control': 'max-age=5' },
      );
      return;
    }
    const account = /^\/accounts\/([a-z0-9-]+)$/.exec(url.pathname);
    if (req.method === 'GET' && account) {
      const found = accounts.find((a) => a.customer === account[1]);
      if (found) sendJson(res, 200, { ...found, variant });
      else sendJson(res, 404, { error: `no account ${account[1]}` });
      return;
    }
    sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }, port);
}

import { listen, sendJson, type Listening } from '../servers/listen.ts';

export type Incident = {
  id: string;
  title: string;
  severity: 'low' | 'high';
  status: 'open' | 'resolved';
  customer: string;
  openedAt: string;
};

export type IncidentsApi = Listening & {
  /** Records an incident the service learnt about from the hub (its consumer group). */
  record(incident: Incident): void;
};

/**
 * The "incidents" upstream service: a tiny JSON API the gateway proxies as
 * `/api/incidents/v1/…`. It trusts the gateway's `x-portico-tenant` header, which only the
 * hub can set because the service listens on loopback.
 */
export async function startIncidentsApi(port: number): Promise<IncidentsApi> {
  const incidents: Incident[] = [
    seed('INC-1001', 'Checkout latency above SLO', 'high', 'open', 'globex', 50),
    seed('INC-1002', 'Invoice PDF renders blank', 'low', 'open', 'initech', 35),
    seed('INC-1003', 'Password reset mail delayed', 'low', 'resolved', 'globex', 20),
  ];
  const server = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/incidents') {
      const status = url.searchParams.get('status');
      const items = incidents
        .filter((i) => !status || i.status === status)
        .toSorted((a, b) => b.openedAt.localeCompare(a.openedAt));
      sendJson(res, 200, { tenant: req.headers['x-portico-tenant'], items });
      return;
    }
    sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }, port);
  return {
    ...server,
    record(incident) {
      if (!incidents.some((i) => i.id === incident.id)) incidents.push(incident);
    },
  };
}

function seed(
  id: string,
  title: string,
  severity: Incident['severity'],
  status: Incident['status'],
  customer: string,
  minutesAgo: number,
): Incident {
  const openedAt = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return { id, title, severity, status, customer, openedAt };
}

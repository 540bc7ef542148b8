/**
 * The billing micro-frontend: React, deployed on its own origin, written with the shell's
 * React adapter (`ShellProvider`, `useSubscription`, `useBusEvent`). React itself is not in
 * this bundle: "react", "react-dom/client" and "@portico/shell/react" are resolved by the
 * shell page's import map to the portal's one shared copy. It shows the dashboard BFF
 * composition (open incidents from the incidents service + the billing summary, one
 * request), refreshes it when an incident is pushed, and shows the account of the incident
 * another micro-frontend selected on the bus.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ShellProvider, useBusEvent, useShell, useSubscription } from '@portico/shell/react';
import type { BusEvent, PushMessage } from '@portico/shell';
import { gatewayHeaders } from '../gateway-headers.ts';
import type { MountMicroFrontend } from '../mfe-contract.ts';
import type { IncidentTicketCreated } from '../portal-events.ts';

const MFE_ID = 'billing';
const h = React.createElement;

type Dashboard = {
  openIncidents: number;
  highOpen: number;
  mrr?: number;
  currency?: string;
  overdueInvoices?: number;
  billingVariant?: string;
};
type Account = { customer: string; plan: string; mrr: number; overdueInvoices: number };

function BillingPanel({ getToken }: { getToken: () => Promise<string> }) {
  // The React adapter: this component's shell context, as micro-frontend "billing".
  const { shell } = useShell();
  const [dashboard, setDashboard] = useState<Dashboard | undefined>();
  const [latest, setLatest] = useState<IncidentTicketCreated | undefined>();
  const [account, setAccount] = useState<Account | undefined>();
  const [error, setError] = useState('');
  const refresh = useRef<ReturnType<typeof setTimeout>>(undefined);

  const get = useCallback(
    async <T>(url: string): Promise<T> => {
      const response = await fetch(url, {
        headers: gatewayHeaders(shell, MFE_ID, await getToken()),
      });
      if (!response.ok) throw new Error(`${new URL(url).pathname} answered ${response.status}`);
      return (await response.json()) as T;
    },
    [getToken, shell],
  );
  const loadDashboard = useCallback(
    () =>
      get<{ data: Dashboard }>(`${shell.api('portal-bff', 'v1')}/dashboard`).then(
        (body) => {
          setDashboard(body.data);
          setError('');
        },
        (e: Error) => setError(e.message),
      ),
    [get, shell],
  );

  useEffect(() => {
    void loadDashboard();
    return () => clearTimeout(refresh.current);
  }, [loadDashboard]);

  useSubscription(
    'incident.*.ticket.created',
    (message: PushMessage) => {
      setLatest(message.event.data as IncidentTicketCreated);
      // The incidents service records the ticket from its own consumer group, a moment
      // after the push: read the composition again shortly after.
      clearTimeout(refresh.current);
      refresh.current = setTimeout(() => void loadDashboard(), 400);
    },
    { replay: 1 },
  );

  useBusEvent('incident.ticket.selected', (event: BusEvent) => {
    // A consumer checks what it reads: bus payloads are validated only in dev mode, and
    // after delivery.
    const { customer } = (event.data ?? {}) as { customer?: unknown };
    if (typeof customer !== 'string') return;
    get<Account>(`${shell.api('billing', 'v1')}/accounts/${encodeURIComponent(customer)}`).then(
      setAccount,
      (e: Error) => setError(e.message),
    );
  });

  const money = (n: number | undefined) =>
    n === undefined ? '–' : `${n.toLocaleString('en')} ${dashboard?.currency ?? ''}`;
  return h(
    'section',
    { className: 'billing' },
    h('style', null, STYLE),
    h('h2', null, 'Billing ', h('small', null, `React from ${ORIGIN}`)),
    error ? h('p', { className: 'error' }, error) : null,
    h(
      'dl',
      { 'data-testid': 'dashboard' },
      h('dt', null, 'open incidents'),
      h('dd', { 'data-testid': 'open-incidents' }, dashboard?.openIncidents ?? '…'),
      h('dt', null, 'of which high'),
      h('dd', null, dashboard?.highOpen ?? '…'),
      shell.settings().features &&
        (shell.settings().features as Record<string, unknown>).showRevenue
        ? [h('dt', { key: 'a' }, 'monthly revenue'), h('dd', { key: 'b' }, money(dashboard?.mrr))]
        : null,
      h('dt', null, 'overdue invoices'),
      h('dd', null, dashboard?.overdueInvoices ?? '–'),
      h('dt', null, 'billing API'),
      h(
        'dd',
        { 'data-testid': 'billing-variant', className: dashboard?.billingVariant ?? '' },
        dashboard?.billingVariant ?? '–',
        shell.dictionary.override ? ` (override "${shell.dictionary.override.name}")` : '',
      ),
    ),
    h(
      'p',
      { className: 'latest', 'data-testid': 'latest-incident' },
      latest
        ? `Latest incident ${latest.id} (${latest.severity}) for ${latest.customer}` +
            (latest.severity === 'high' ? ': SLA credits may apply' : '')
        : 'No incident pushed yet',
    ),
    account
      ? h(
          'p',
          { className: 'account', 'data-testid': 'account' },
          `Selected customer ${account.customer}: ${account.plan} plan, ${money(account.mrr)}/month, ${account.overdueInvoices} overdue`,
        )
      : h('p', { className: 'hint' }, 'Click an incident to see its customer’s account.'),
  );
}

const ORIGIN = new URL(import.meta.url).origin;

const STYLE = `
.billing{font:14px system-ui}
.billing h2{font-size:15px;margin:0 0 .5rem}.billing small{color:#667;font-weight:normal}
.billing dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0 0 .75rem}
.billing dt{color:#556}.billing dd{margin:0;font-weight:600}
.billing .latest{background:#fff6e0;padding:.4rem .6rem;border-radius:6px}
.billing .account{background:#e8f3ff;padding:.4rem .6rem;border-radius:6px}
.billing dd.canary{color:#8a4b00}
.billing .hint{color:#778}.billing .error{color:#a00}
`;

export const mount: MountMicroFrontend = (element, { shell, getToken }) => {
  const root = createRoot(element);
  root.render(h(ShellProvider, { shell, mfeId: MFE_ID }, h(BillingPanel, { getToken })));
  return () => root.unmount();
};

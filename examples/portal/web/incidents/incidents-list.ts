/**
 * The incidents micro-frontend: a Web Component, `<incidents-list>`, deployed on its own
 * origin. It loads open incidents through the gateway (the URL comes from the service
 * dictionary), then takes live `incident.ticket.created` events and on-call pages from the
 * shell's one push connection, and tells other micro-frontends which incident the user
 * picked through the client bus (`incident.ticket.selected`).
 */
import type { PushMessage, Shell } from '@portico/shell';
import type { IncidentData, MfeContext, MountMicroFrontend } from '../mfe-contract.ts';

const MFE_ID = 'incidents';

type Row = IncidentData & { live: boolean; paged: boolean };

class IncidentsList extends HTMLElement {
  #rows: Row[] = [];
  #error = '';
  #stop: (() => void)[] = [];
  #root = this.attachShadow({ mode: 'open' });

  /** Set by the shell page before the element is connected. */
  context: MfeContext | undefined;

  connectedCallback(): void {
    const context = this.context;
    if (!context) throw new Error('<incidents-list> needs its context (shell, getToken)');
    const { shell } = context;
    // A server-driven client setting (the dictionary's `features`), no release needed.
    const features = (shell.settings().features ?? {}) as Record<string, unknown>;
    const size = typeof features.incidentListSize === 'number' ? features.incidentListSize : 8;
    this.#render(shell, size);
    void this.#load(context, size);
    this.#stop.push(
      // replay: a list that mounts after events were pushed still shows the latest ones.
      shell.subscribe(MFE_ID, 'incident.*.ticket.created', (m) => this.#add(m, shell, size), {
        replay: 5,
      }),
      // The routing rule "page-oncall" copies high-severity incidents to this push channel.
      shell.subscribe(MFE_ID, 'portico.*.push.oncall', (m) => this.#paged(m, shell, size)),
    );
  }

  disconnectedCallback(): void {
    for (const stop of this.#stop.splice(0)) stop();
  }

  async #load({ shell, getToken }: MfeContext, size: number): Promise<void> {
    const response = await fetch(`${shell.api('incidents', 'v1')}/incidents?status=open`, {
      headers: { authorization: `Bearer ${await getToken()}`, 'x-portico-app': MFE_ID },
    });
    if (!response.ok) {
      this.#error = `incidents API answered ${response.status}`;
      return this.#render(shell, size);
    }
    const { items } = (await response.json()) as { items: IncidentData[] };
    for (const item of items.toReversed()) this.#upsert({ ...item, live: false, paged: false });
    this.#render(shell, size);
  }

  #add(message: PushMessage, shell: Shell, size: number): void {
    const data = message.event.data as IncidentData;
    this.#upsert({ ...data, live: !message.replayed, paged: false });
    this.#render(shell, size);
  }

  #paged(message: PushMessage, shell: Shell, size: number): void {
    const data = message.event.data as IncidentData;
    this.#upsert({ ...data, live: true, paged: true });
    this.#render(shell, size);
  }

  #upsert(row: Row): void {
    const existing = this.#rows.find((r) => r.id === row.id);
    if (existing) {
      existing.paged ||= row.paged;
      existing.live ||= row.live;
    } else this.#rows.unshift(row);
  }

  #render(shell: Shell, size: number): void {
    const list = document.createElement('ul');
    for (const row of this.#rows.slice(0, size)) {
      const item = document.createElement('li');
      item.dataset.incident = row.id;
      item.className = `${row.severity}${row.live ? ' live' : ''}`;
      item.innerHTML = `<span class="sev"></span><b></b><span class="title"></span><span class="tags"></span>`;
      item.querySelector('.sev')!.textContent = row.severity;
      item.querySelector('b')!.textContent = row.id;
      item.querySelector('.title')!.textContent = row.title;
      item.querySelector('.tags')!.textContent = row.paged
        ? 'on-call paged'
        : row.live
          ? 'new'
          : '';
      item.addEventListener('click', () =>
        this.context!.bus.publish('incident.ticket.selected', {
          id: row.id,
          customer: row.customer,
          severity: row.severity,
        }),
      );
      list.append(item);
    }
    this.#root.innerHTML = `<style>${STYLE}</style><h2>Incidents <small>Web Component from ${ORIGIN}</small></h2><p class="error"></p>`;
    this.#root.querySelector('.error')!.textContent = this.#error;
    this.#root.append(list);
  }
}

// Where this micro-frontend was deployed (its own origin), shown in its header.
const ORIGIN = new URL(import.meta.url).origin;

const STYLE = `
:host{display:block;font:14px system-ui}
h2{font-size:15px;margin:0 0 .5rem}small{color:#667;font-weight:normal}
ul{list-style:none;margin:0;padding:0}
li{display:flex;gap:.5rem;align-items:center;padding:.35rem .4rem;border-bottom:1px solid #e4e6eb;cursor:pointer}
li:hover{background:#f5f7fb}
.sev{font-size:11px;text-transform:uppercase;padding:1px 6px;border-radius:8px;background:#dde3ec}
.high .sev{background:#f6c8c4;color:#7a1409}
.title{flex:1}
.tags{font-size:11px;color:#0b6b2f}
.live b{color:#0b6b2f}
.error{color:#a00;margin:0}
`;

customElements.define('incidents-list', IncidentsList);

export const mount: MountMicroFrontend = (element, context) => {
  const list = document.createElement('incidents-list') as IncidentsList;
  list.context = context;
  element.replaceChildren(list);
  return () => list.remove();
};

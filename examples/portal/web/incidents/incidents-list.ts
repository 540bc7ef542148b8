/**
 * The incidents micro-frontend: a Web Component, `<incidents-list>`, deployed on its own
 * origin and mounted by the shell's `<portico-mfe element="incidents-list">`, which gives it
 * its context (`portico`: the shell, and the bus and push subscriptions as "incidents"). It
 * loads open incidents through the gateway (the URL comes from the service dictionary), then
 * takes live `incident.ticket.created` events and on-call pages from the shell's one push
 * connection, and tells other micro-frontends which incident the user picked through the
 * client bus (`incident.ticket.selected`).
 */
import type { MfeContext, PushMessage } from '@portico/shell';
import type { IncidentTicketCreated, IncidentTicketSelected } from '../portal-events.ts';
import { gatewayHeaders } from '../gateway-headers.ts';
import { requestToken } from '../portal-token.ts';

/** `at`: when it was opened (the API's `openedAt`, the event's `time`); newest first. */
type Row = IncidentTicketCreated & { at: string; live: boolean; paged: boolean };

class IncidentsList extends HTMLElement {
  #rows: Row[] = [];
  #error = '';
  #size = 8;
  #stop: (() => void)[] = [];
  #root = this.attachShadow({ mode: 'open' });

  /** Set by `<portico-mfe>` before the element is connected. */
  portico: MfeContext | undefined;

  connectedCallback(): void {
    const context = this.portico;
    const getToken = requestToken(this);
    if (!context || !getToken) {
      this.#error = '<incidents-list> needs <portico-mfe> and a token provider around it';
      return this.#render();
    }
    // A server-driven client setting (the dictionary's `features`), no release needed.
    const features = (context.shell.settings().features ?? {}) as Record<string, unknown>;
    if (typeof features.incidentListSize === 'number') this.#size = features.incidentListSize;
    this.#render();
    void this.#load(context, getToken);
    this.#stop.push(
      // replay: a list that mounts after events were pushed still shows the latest ones.
      context.subscribe('incident.*.ticket.created', (m) => this.#take(m, false), { replay: 5 }),
      // The routing rule "page-oncall" copies high-severity incidents to this push channel.
      context.subscribe('portico.*.push.oncall', (m) => this.#take(m, true), { replay: 5 }),
    );
  }

  disconnectedCallback(): void {
    for (const stop of this.#stop.splice(0)) stop();
  }

  async #load(context: MfeContext, getToken: () => Promise<string>): Promise<void> {
    const response = await fetch(`${context.shell.api('incidents', 'v1')}/incidents?status=open`, {
      headers: gatewayHeaders(context.shell, context.mfeId, await getToken()),
    });
    if (!response.ok) this.#error = `incidents API answered ${response.status}`;
    else {
      const { items } = (await response.json()) as {
        items: (IncidentTicketCreated & { openedAt: string })[];
      };
      for (const item of items)
        this.#upsert({ ...item, at: item.openedAt, live: false, paged: false });
    }
    this.#render();
  }

  #take(message: PushMessage, paged: boolean): void {
    const data = message.event.data as IncidentTicketCreated;
    const at =
      typeof message.event.time === 'string' ? message.event.time : new Date().toISOString();
    this.#upsert({ ...data, at, live: !message.replayed, paged });
    this.#render();
  }

  #upsert(row: Row): void {
    const existing = this.#rows.find((r) => r.id === row.id);
    if (existing) {
      existing.paged ||= row.paged;
      existing.live ||= row.live;
    } else {
      this.#rows.push(row);
      this.#rows.sort((a, b) => b.at.localeCompare(a.at));
    }
  }

  #render(): void {
    const list = document.createElement('ul');
    for (const row of this.#rows.slice(0, this.#size)) {
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
      const selected: IncidentTicketSelected = {
        id: row.id,
        customer: row.customer,
        severity: row.severity,
      };
      // Sent as "incidents" (the context's bus), whatever this code would claim.
      item.addEventListener('click', () =>
        this.portico?.bus.publish('incident.ticket.selected', selected),
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

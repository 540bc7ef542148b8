/**
 * The untrusted widget: its own origin, inside a sandboxed iframe, with no token and no hub
 * access. It only hears what the shell chooses to put on the bus for it
 * (`incident.ticket.announced`, without customer names), through the postMessage bridge,
 * which the shell opens for this origin only.
 */
import { connectToShell, type BusEvent } from '@portico/shell';
import type { IncidentTicketAnnounced } from '../portal-events.ts';

const parentOrigin = new URL(location.href).searchParams.get('parent');
const state = document.getElementById('state')!;
const latest = document.getElementById('latest')!;
const history = document.getElementById('history')!;

if (!parentOrigin) state.textContent = 'no ?parent= origin given: not connecting';
else {
  const bus = await connectToShell({ parentOrigin });
  state.textContent = `bridged to ${parentOrigin}`;
  bus.subscribe('incident.ticket.announced', (event: BusEvent) => {
    const { id, severity, title } = event.data as IncidentTicketAnnounced;
    latest.className = severity;
    latest.textContent = `${id} · ${severity}: ${title}`;
    const item = document.createElement('li');
    item.textContent = `${new Date(event.time).toLocaleTimeString()} ${id} (${severity})`;
    history.prepend(item);
    while (history.children.length > 5) history.lastElementChild!.remove();
  });
}

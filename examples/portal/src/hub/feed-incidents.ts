import type { Incident } from '../upstreams/incidents-api.ts';

type Pulled = { token: string; event: { id: string; time?: string; data?: unknown } };

/**
 * The incidents service's consumer: long-polls its consumer group on the hub and records
 * each `incident.ticket.created` as an open incident, then acks. Stops when `signal` aborts.
 */
export async function feedIncidents(options: {
  hub: string;
  getToken: () => Promise<string>;
  record: (incident: Incident) => void;
  signal: AbortSignal;
  onError: (error: Error) => void;
}): Promise<void> {
  const { hub, getToken, record, signal } = options;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${hub}/v1/consumer-groups/incidents-api/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await getToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<{ messages: Pulled[] }>;
  };
  while (!signal.aborted) {
    try {
      const { messages } = await post('pull', {
        consumer: 'incidents-api-1',
        max: 50,
        waitSeconds: 5,
      });
      for (const { event } of messages) {
        const data = event.data as Omit<Incident, 'status' | 'openedAt'>;
        record({ ...data, status: 'open', openedAt: event.time ?? new Date().toISOString() });
      }
      if (messages.length > 0) await post('ack', { tokens: messages.map((m) => m.token) });
    } catch (error) {
      if (signal.aborted) return;
      options.onError(error as Error);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * The hub subscription id of a topic pattern (and filter): the same in every tab and for
 * every micro-frontend, so identical subscriptions share one entry on the hub connection
 * without any coordination. A plain pattern is its own id (readable in the hub's listings);
 * anything else gets a hash.
 */
const READABLE = /^[A-Za-z0-9._*>-]{1,120}$/;

export function hubSubscriptionId(topic: string, filter: unknown): string {
  if (filter === undefined && READABLE.test(topic)) return topic;
  return `h:${fnv1a(JSON.stringify([topic, filter ?? null]))}`;
}

/** FNV-1a over UTF-16 code units, two 32-bit lanes: an id, not a security boundary. */
function fnv1a(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c ^ (a >>> 7), 0x85ebca6b);
  }
  return (a >>> 0).toString(36) + (b >>> 0).toString(36);
}

/**
 * Per-domain entry points: a Host name that reaches only the APIs of some dictionary
 * domains (e.g. `incidents.example.com` → the `incidents` domain), so each domain can be
 * published under its own name with the same hub behind it. Hosts that are not entry points
 * reach every API. A different port per domain is the load balancer's job (map it to a Host).
 */
export type EntryPointConfig = { host: string; domains: string[] };

export class EntryPoints {
  readonly #domainsByHost = new Map<string, ReadonlySet<string>>();

  constructor(entries: readonly EntryPointConfig[]) {
    for (const { host, domains } of entries)
      this.#domainsByHost.set(host.toLowerCase(), new Set(domains));
  }

  /** Whether a request to `host` (the Host header, port allowed) may reach an API of `domain`. */
  allows(host: string | undefined, domain: string): boolean {
    if (this.#domainsByHost.size === 0 || !host) return true;
    const domains = this.#domainsByHost.get(hostname(host));
    return domains === undefined || domains.has(domain);
  }
}

/** The Host header without its port (IPv6 literals keep their brackets), lowercased. */
function hostname(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

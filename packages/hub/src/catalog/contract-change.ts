/**
 * One difference between two versions of a contract, as the catalog and `portico contract
 * check` report it. `breaking` changes fail a check (409 at publish, exit 1 in CI);
 * `warning` deserves a look (e.g. a schema that could not be compared); `info` is a
 * compatible change worth knowing (an operation added).
 */
export type Severity = 'breaking' | 'warning' | 'info';

export type ContractChange = {
  severity: Severity;
  /** Stable kebab-case code: the catalog's own (`operation-removed`) or the JSON Schema checker's (`type-changed`). */
  code: string;
  /** Where, for a human: `openapi billing-api: GET /invoices/{id} → response 200 application/json`. */
  location: string;
  /** For schema changes: an RFC 6901 pointer into the new schema ("" is its root). */
  pointer?: string;
  detail: string;
};

export type ContractReport = {
  breaking: boolean;
  summary: { breaking: number; warning: number; info: number };
  changes: ContractChange[];
};

export function toReport(changes: ContractChange[]): ContractReport {
  const summary = { breaking: 0, warning: 0, info: 0 };
  for (const c of changes) summary[c.severity] += 1;
  // Breaking first, then warnings, then notes; stable within each.
  const order: Record<Severity, number> = { breaking: 0, warning: 1, info: 2 };
  const sorted = changes
    .map((c, i) => ({ c, i }))
    .sort((a, b) => order[a.c.severity] - order[b.c.severity] || a.i - b.i)
    .map(({ c }) => c);
  return { breaking: summary.breaking > 0, summary, changes: sorted };
}

const MARK: Record<Severity, string> = {
  breaking: '✗ breaking',
  warning: '! warning ',
  info: '· info    ',
};

/** The human-readable report of `portico contract check`. */
export function formatReport(report: ContractReport): string {
  const { breaking, warning, info } = report.summary;
  const lines = report.changes.map(
    (c) =>
      `${MARK[c.severity]}  ${c.location}${c.pointer !== undefined && c.pointer !== '' ? ` at ${c.pointer}` : ''}\n` +
      `            ${c.code}: ${c.detail}`,
  );
  const verdict = report.breaking
    ? `${breaking} breaking change${breaking === 1 ? '' : 's'}`
    : 'no breaking changes';
  lines.push(
    `${verdict} (${warning} warning${warning === 1 ? '' : 's'}, ${info} other change${info === 1 ? '' : 's'})`,
  );
  return lines.join('\n') + '\n';
}

/**
 * The subject layout of the NATS event log (see README.md):
 *
 *   <prefix>.<tenant>.<partition>.<domain>.<env>.<entity>.<action>
 *
 * e.g. `portico.acme.7.orders.dev.order.created`. Tenant and partition are subject
 * tokens, so a tenant's events, or one topic pattern across tenants, are one subject
 * filter away. Tenant ids are free text, so they are encoded into a valid token.
 */
import { topicPatternProblem } from '../../events/topic.ts';

const PLAIN = /^[A-Za-z0-9_-]$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Encodes any non-empty string as one subject token (also a valid consumer name):
 * letters, digits, `_` and `-` stay; every other UTF-8 byte becomes `~XX` (hex). The
 * encoding is injective, so two tenants never share a token.
 */
export function encodeToken(text: string): string {
  if (text.length === 0) throw new RangeError('a tenant or group name must not be empty');
  let out = '';
  for (const char of text) {
    if (PLAIN.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeToken(token: string): string {
  if (!token.includes('~')) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

export type SubjectLayout = {
  readonly prefix: string;
  subjectFor(tenant: string, partition: number, topic: string): string;
  /** Subject filter for a tenant (all when undefined) and a topic pattern (all when undefined). */
  filterFor(tenant: string | undefined, topicPattern: string | undefined): string;
  /** Undefined when the subject is not laid out by us. */
  parse(subject: string): { tenant: string; partition: number; topic: string } | undefined;
};

export function subjectLayout(prefix: string): SubjectLayout {
  if (!PREFIX.test(prefix))
    throw new RangeError(
      `subject prefix "${prefix}" must be dot-separated tokens of [A-Za-z0-9_-]`,
    );
  const head = `${prefix}.`;
  return {
    prefix,
    subjectFor: (tenant, partition, topic) => `${head}${encodeToken(tenant)}.${partition}.${topic}`,
    filterFor: (tenant, topicPattern) => {
      if (topicPattern !== undefined) {
        const problem = topicPatternProblem(topicPattern);
        if (problem !== undefined)
          throw new RangeError(`topic pattern "${topicPattern}": ${problem}`);
      }
      return `${head}${tenant === undefined ? '*' : encodeToken(tenant)}.*.${topicPattern ?? '>'}`;
    },
    parse: (subject) => {
      if (!subject.startsWith(head)) return undefined;
      const rest = subject.slice(head.length);
      const firstDot = rest.indexOf('.');
      const secondDot = rest.indexOf('.', firstDot + 1);
      if (firstDot < 1 || secondDot < 0) return undefined;
      return {
        tenant: decodeToken(rest.slice(0, firstDot)),
        partition: Number(rest.slice(firstDot + 1, secondDot)),
        topic: rest.slice(secondDot + 1),
      };
    },
  };
}

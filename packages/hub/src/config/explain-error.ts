import type { TSchema, TUnion } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { urlWithoutPassword } from './url-without-password.ts';

/**
 * Turns the first schema error of a configuration into the sentence start-up stops with:
 * the key, why, and what was given, with secrets left out (the message reaches terminals
 * and CI logs).
 */
export function explainConfigError(error: ValueError): string {
  const { path, message, value } = narrow(error);
  const key = path ? path.slice(1).replaceAll('/', '.') : '(root)';
  return `invalid configuration at "${key}": ${message} (got ${shown(key, value)})`;
}

/**
 * A union's own error says only "expected union value": name the choices of a union of
 * literals, and for a union of objects told apart by `kind` (store, backbone, …) report the
 * error inside the variant the value chose.
 */
function narrow(error: ValueError): { path: string; message: string; value: unknown } {
  // Lower-case the sentence, not what it quotes (a pattern like ^[A-Za-z0-9_-]+$).
  const message = error.message.charAt(0).toLowerCase() + error.message.slice(1);
  const plain = { path: error.path, message, value: error.value };
  if (error.type !== ValueErrorType.Union) return plain;
  const variants = (error.schema as TUnion).anyOf as Array<Record<string, unknown>>;
  const literals = variants.map((v) => v.const);
  if (literals.every((l) => l !== undefined))
    return { ...plain, message: `expected one of ${literals.map(String).join(', ')}` };
  const kinds = variants.map(
    (v) => (v.properties as Record<string, { const?: unknown }> | undefined)?.kind?.const,
  );
  const value = error.value as { kind?: unknown } | undefined;
  if (kinds.some((k) => k === undefined) || typeof value !== 'object' || value === null)
    return plain;
  const chosen = kinds.indexOf(value.kind);
  if (chosen < 0)
    return {
      path: `${error.path}/kind`,
      message: `expected one of ${kinds.map(String).join(', ')}`,
      value: value.kind,
    };
  // Defaults inside a variant are filled in only when the whole value fits it: fill them
  // here, or a key left to its default would be reported missing.
  const variant = variants[chosen] as TSchema;
  const inner = Value.Errors(variant, Value.Default(variant, Value.Clone(value))).First();
  if (!inner) return plain;
  const explained = narrow(inner);
  return { ...explained, path: `${error.path}${explained.path}` };
}

/** Keys whose values are credentials (http.metricsToken, gateway.tokenExchange.clientSecret). */
const SECRET_KEY = /(secret|token|password)$/i;

function shown(key: string, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (SECRET_KEY.test(key) && typeof value === 'string') return 'a secret, not shown';
  const text = JSON.stringify(value, (name, v: unknown) =>
    SECRET_KEY.test(name) && typeof v === 'string'
      ? '***'
      : typeof v === 'string'
        ? urlWithoutPassword(v)
        : v,
  );
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

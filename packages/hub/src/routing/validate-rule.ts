/**
 * Checks a rule's pattern and targets and reports every problem with a JSON pointer into
 * the request body and what was expected there (the body's top-level types are checked
 * by the route schema first).
 */
import type { FieldError } from '../http/problem.ts';
import { validatePattern, type Pattern } from './pattern/index.ts';
import { validateInputTransform, type InputTransform } from '../delivery/input-transform.ts';
import type { RetryOverride } from '../delivery/retry-policy.ts';
import type { TargetRegistry } from '../delivery/target-registry.ts';
import type { RuleLimits, RuleTarget } from './rule.ts';

const COMMON = ['kind', 'ordered', 'inputTransform', 'retry'];
const WEEK_SECONDS = 7 * 86_400;

export function validatePatternField(
  pattern: unknown,
  limits: RuleLimits,
  at = '/pattern',
): FieldError[] {
  const size = Buffer.byteLength(JSON.stringify(pattern) ?? '');
  if (size > limits.maxPatternBytes)
    return [
      {
        pointer: at,
        detail: `the pattern is ${size} bytes as JSON; at most ${limits.maxPatternBytes} are allowed`,
      },
    ];
  return validatePattern(pattern).map((p) => ({ pointer: at + p.pointer, detail: p.detail }));
}

/** Validates and normalises targets (destination field kept, defaults filled). */
export function validateTargets(
  targets: readonly unknown[],
  registry: TargetRegistry,
): { targets: RuleTarget[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const normalised: RuleTarget[] = [];
  const kinds = registry.kinds().map((k) => k.kind);
  targets.forEach((raw, i) => {
    const at = `/targets/${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({
        pointer: at,
        detail: `must be an object such as {"kind": "queue", "queue": "on-call"}`,
      });
      return;
    }
    const t = raw as Record<string, unknown>;
    const spec = typeof t['kind'] === 'string' ? registry.spec(t['kind']) : undefined;
    if (!spec) {
      errors.push({
        pointer: `${at}/kind`,
        detail: `must be one of ${kinds.map((k) => `"${k}"`).join(', ')}`,
      });
      return;
    }
    const known = [...COMMON, spec.refField];
    for (const key of Object.keys(t))
      if (!known.includes(key))
        errors.push({
          pointer: `${at}/${escape(key)}`,
          detail: `is not a property of a ${spec.kind} target (${known.join(', ')})`,
        });
    const ref = t[spec.refField];
    if (typeof ref !== 'string' || ref.length === 0) {
      errors.push({
        pointer: `${at}/${spec.refField}`,
        detail: `is required: ${spec.description}`,
      });
    } else {
      const problem = spec.refProblem?.(ref);
      if (problem) errors.push({ pointer: `${at}/${spec.refField}`, detail: problem });
    }
    if (t['ordered'] !== undefined && typeof t['ordered'] !== 'boolean')
      errors.push({ pointer: `${at}/ordered`, detail: 'must be true or false' });
    if (t['inputTransform'] !== undefined)
      for (const p of validateInputTransform(t['inputTransform']))
        errors.push({ pointer: `${at}/inputTransform${p.pointer}`, detail: p.detail });
    if (t['retry'] !== undefined) errors.push(...validateRetry(t['retry'], `${at}/retry`));
    const target: RuleTarget = {
      kind: spec.kind,
      [spec.refField]: ref,
      ordered: t['ordered'] === true,
    };
    if (t['inputTransform'] !== undefined)
      target.inputTransform = t['inputTransform'] as InputTransform;
    if (t['retry'] !== undefined) target.retry = t['retry'] as RetryOverride;
    normalised.push(target);
  });
  return { targets: normalised, errors };
}

function validateRetry(value: unknown, at: string): FieldError[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [
      {
        pointer: at,
        detail:
          'must be an object (maxAttempts, delaysSeconds, baseDelaySeconds, maxDelaySeconds, maxAgeSeconds, jitter)',
      },
    ];
  const r = value as Record<string, unknown>;
  const errors: FieldError[] = [];
  const number = (key: string, min: number, max: number, integer = false) => {
    const v = r[key];
    if (v === undefined) return;
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    )
      errors.push({
        pointer: `${at}/${key}`,
        detail: `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      });
  };
  for (const key of Object.keys(r))
    if (
      ![
        'maxAttempts',
        'delaysSeconds',
        'baseDelaySeconds',
        'maxDelaySeconds',
        'maxAgeSeconds',
        'jitter',
      ].includes(key)
    )
      errors.push({ pointer: `${at}/${escape(key)}`, detail: 'is not a retry setting' });
  number('maxAttempts', 1, 100, true);
  number('baseDelaySeconds', 0, WEEK_SECONDS);
  number('maxDelaySeconds', 0, WEEK_SECONDS);
  number('maxAgeSeconds', 0.001, 4 * WEEK_SECONDS);
  const delays = r['delaysSeconds'];
  if (delays !== undefined) {
    if (!Array.isArray(delays) || delays.length === 0 || delays.length > 50)
      errors.push({
        pointer: `${at}/delaysSeconds`,
        detail: 'must be a list of 1 to 50 delays in seconds',
      });
    else
      delays.forEach((d, j) => {
        if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > WEEK_SECONDS)
          errors.push({
            pointer: `${at}/delaysSeconds/${j}`,
            detail: `must be a number of seconds from 0 to ${WEEK_SECONDS}`,
          });
      });
    if (r['baseDelaySeconds'] !== undefined || r['maxDelaySeconds'] !== undefined)
      errors.push({
        pointer: `${at}/delaysSeconds`,
        detail:
          'give either delaysSeconds (a schedule) or baseDelaySeconds/maxDelaySeconds (exponential), not both',
      });
  }
  if (r['jitter'] !== undefined && r['jitter'] !== 'full' && r['jitter'] !== 'none')
    errors.push({ pointer: `${at}/jitter`, detail: 'must be "full" or "none"' });
  return errors;
}

/** The pattern the matcher compiles: a tenant rule also requires the event's tenant. */
export function effectivePattern(pattern: Pattern, tenant: string | undefined): Pattern {
  if (tenant === undefined || Object.hasOwn(pattern, 'tenantid')) return pattern;
  return { ...pattern, tenantid: [tenant] };
}

/** Where a target's destination is, e.g. `queue` for a queue target. */
export function destinationOf(target: RuleTarget, registry: TargetRegistry): string {
  const field = registry.spec(target.kind)?.refField;
  const ref = field ? target[field] : undefined;
  return typeof ref === 'string' ? ref : '';
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

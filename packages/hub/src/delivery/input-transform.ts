/**
 * Input transforms, as EventBridge's InputTransformer: `paths` names values picked from
 * the event with a JSONPath subset, `template` is text with `<name>` placeholders.
 *
 * - Paths: `$` (the whole event), then `.field`, `['field']` / `["field"]` and `[index]`
 *   steps, e.g. `$.data.affected_services[0]`. No wildcards, filters or recursion: a path
 *   names one value or nothing.
 * - A JSON template (it starts with `{` or `[`): a placeholder inside a string literal
 *   (`"sev: <sev>"`) receives the value's text, escaped for that string; anywhere else the
 *   value as JSON (a missing value is `null` there and empty inside a string).
 * - A text template (anything else): placeholders receive the value's text as is.
 * - The output is the parsed JSON when the filled template is JSON, else the text itself.
 */

export type InputTransform = { paths: Record<string, string>; template: string };

export type TransformProblem = { pointer: string; detail: string };

type Step = string | number;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const MAX_PATHS = 100;
export const MAX_TEMPLATE_LENGTH = 8192;

/** Parses a path into steps, or returns why it cannot be one. */
export function parsePath(path: string): Step[] | string {
  if (!path.startsWith('$')) return 'must start with "$"';
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      const m = /^[A-Za-z0-9_$@-]+/.exec(path.slice(i + 1));
      if (!m) return `expected a field name after "." at character ${i + 1}`;
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      const rest = path.slice(i);
      const index = /^\[(\d{1,9})\]/.exec(rest);
      const quoted = /^\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]/.exec(rest);
      if (index) {
        steps.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted) {
        steps.push((quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else {
        return `expected [index] or ['field'] at character ${i + 1} (wildcards and filters are not supported)`;
      }
    } else {
      return `unexpected "${c}" at character ${i + 1}`;
    }
  }
  return steps;
}

/** Every problem with a transform, with pointers relative to the transform object. */
export function validateInputTransform(value: unknown): TransformProblem[] {
  const problems: TransformProblem[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [{ pointer: '', detail: 'must be an object with "paths" and "template"' }];
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (key !== 'paths' && key !== 'template')
      problems.push({
        pointer: `/${escape(key)}`,
        detail: 'is not a known property (paths, template)',
      });
  const paths = t['paths'] ?? {};
  if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) {
    problems.push({
      pointer: '/paths',
      detail: 'must be an object mapping names to JSONPath strings',
    });
  } else {
    const entries = Object.entries(paths);
    if (entries.length > MAX_PATHS)
      problems.push({ pointer: '/paths', detail: `may name at most ${MAX_PATHS} values` });
    for (const [name, path] of entries) {
      const at = `/paths/${escape(name)}`;
      if (!NAME.test(name))
        problems.push({
          pointer: at,
          detail:
            'the name must be letters, digits, "_", "-" or "." (at most 64), starting with a letter or "_"',
        });
      if (typeof path !== 'string')
        problems.push({ pointer: at, detail: 'must be a JSONPath string such as "$.data.id"' });
      else {
        const parsed = parsePath(path);
        if (typeof parsed === 'string')
          problems.push({ pointer: at, detail: `JSONPath ${parsed}` });
      }
    }
  }
  const template = t['template'];
  if (typeof template !== 'string') {
    problems.push({ pointer: '/template', detail: 'must be a string' });
  } else {
    if (template.length > MAX_TEMPLATE_LENGTH)
      problems.push({
        pointer: '/template',
        detail: `must be at most ${MAX_TEMPLATE_LENGTH} characters`,
      });
    const names =
      typeof paths === 'object' && paths !== null ? new Set(Object.keys(paths)) : new Set<string>();
    for (const placeholder of placeholders(template))
      if (!names.has(placeholder.name))
        problems.push({
          pointer: '/template',
          detail: `placeholder <${placeholder.name}> is not defined in paths`,
        });
  }
  return problems;
}

/** Applies a (valid) transform to an event. */
export function applyInputTransform(transform: InputTransform, event: unknown): unknown {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(transform.paths)) {
    const steps = parsePath(path);
    values.set(name, typeof steps === 'string' ? undefined : pick(event, steps));
  }
  const json = /^\s*[[{]/.test(transform.template);
  let out = '';
  let last = 0;
  for (const p of placeholders(transform.template)) {
    if (!values.has(p.name)) continue;
    out += transform.template.slice(last, p.start);
    const value = values.get(p.name);
    if (p.inString || !json) {
      const text =
        value === undefined || value === null
          ? ''
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
      out += json ? JSON.stringify(text).slice(1, -1) : text;
    } else {
      out += value === undefined ? 'null' : JSON.stringify(value);
    }
    last = p.end;
  }
  out += transform.template.slice(last);
  try {
    return JSON.parse(out) as unknown;
  } catch {
    return out;
  }
}

function pick(value: unknown, steps: Step[]): unknown {
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (Array.isArray(current) || !Object.hasOwn(current, step)) return undefined;
      current = (current as Record<string, unknown>)[step];
    }
  }
  return current;
}

type Placeholder = { name: string; start: number; end: number; inString: boolean };

/** The `<name>` placeholders of a template, each knowing whether it sits inside a JSON string. */
function placeholders(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '\\' && inString) {
      i++;
      continue;
    }
    if (c === '"') {
      inString = !inString;
      continue;
    }
    if (c === '<') {
      const m = /^<([A-Za-z_][A-Za-z0-9_.-]{0,63})>/.exec(template.slice(i, i + 67));
      if (m) {
        found.push({ name: m[1]!, start: i, end: i + m[0].length, inString });
        i += m[0].length - 1;
      }
    }
  }
  return found;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

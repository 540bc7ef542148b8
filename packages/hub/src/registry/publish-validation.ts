/**
 * The registry's two publish-time checks, in this order (app.ts adds both to the
 * ingestor's `publishChecks`):
 *
 * 1. `schema`: an event whose type (or `dataschema`, see subject-mapping.ts) has a
 *    registered schema is validated against it. The subject's validation mode decides:
 *    `reject` → 422 listing every failing field as a pointer into the event (`/data/...`);
 *    `warn` → accepted, the ingestor flags it (`validationwarnings` on the event, the
 *    `portico_publish_check_warnings_total{check="schema"}` counter).
 * 2. `policy`: the domain's publish-time policy (domain-policy.ts), which needs what the
 *    schema check found (the `x-pii` values). Every decision in a governed domain is
 *    logged; denials at info level, with pointers but never the values.
 *
 * The checks hand their findings over through a WeakMap keyed by the event object (the
 * ingestor passes the same object to every check), so nothing is validated twice.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { CloudEventRecord } from '../backbone/event-log.ts';
import type { PublishCheck, PublishVerdict } from '../events/publish-check.ts';
import { decide, domainOf, type DomainPolicy } from './domain-policy.ts';
import type { PublishCache, PublishTarget } from './publish-cache.ts';
import { dataschemaFor, subjectFor, type SubjectChoice } from './subject-mapping.ts';

type Finding = { hasSchema: boolean; pii: readonly string[] };

const NO_SCHEMA: Finding = { hasSchema: false, pii: [] };
/** A warning lists at most this many failing fields (the event attribute stays small). */
const MAX_WARNED_FIELDS = 5;

export type PublishValidationOptions = {
  cache: PublishCache;
  /** Policies by domain (config `registry.domains`). */
  domains: Readonly<Record<string, DomainPolicy>>;
  logger: FastifyBaseLogger;
  metrics: Registry;
};

export function createPublishChecks(options: PublishValidationOptions): PublishCheck[] {
  const { cache, domains, logger } = options;
  const findings = new WeakMap<CloudEventRecord, Finding>();
  const validations = new Counter({
    name: 'portico_schema_validations_total',
    help: 'Events validated at publish against a registered schema, by result (valid, rejected, warned)',
    labelNames: ['result'],
    registers: [options.metrics],
  });
  // Bound once: a labelled inc() hashes its labels on every call, per event here.
  const counted = {
    valid: validations.labels({ result: 'valid' }),
    rejected: validations.labels({ result: 'rejected' }),
    warned: validations.labels({ result: 'warned' }),
  };
  const governed = (type: string) => Object.hasOwn(domains, domainOf(type));
  const decisions = new Counter({
    name: 'portico_publish_policy_decisions_total',
    help: 'Publish-time policy decisions in governed domains, by domain, outcome and rule',
    labelNames: ['domain', 'outcome', 'rule'],
    registers: [options.metrics],
  });

  const schemaCheck: PublishCheck = {
    name: 'schema',
    check(event): PublishVerdict | Promise<PublishVerdict> {
      const choice = subjectFor(event);
      const known = cache.peek(event.tenantid, choice.subject, choice.version);
      if (known !== undefined) return verdict(event, choice, known ?? undefined);
      return cache
        .target(event.tenantid, choice.subject, choice.version)
        .then((target) => verdict(event, choice, target));
    },
  };

  function verdict(
    event: CloudEventRecord,
    choice: SubjectChoice,
    target: PublishTarget | undefined,
  ): PublishVerdict {
    if (!target) {
      if (choice.from === 'type') return { outcome: 'accept' };
      return {
        outcome: 'reject',
        detail: `dataschema names version ${choice.version} of subject "${choice.subject}", which is not registered`,
        errors: [{ pointer: '/dataschema', detail: 'names a schema that is not registered' }],
      };
    }
    // The hub records which schema version an event was checked against (DESIGN.md:
    // `dataschema` when registered); a producer's own dataschema is kept.
    if (event.dataschema === undefined)
      event.dataschema = dataschemaFor(target.subject, target.version);
    if (event.data === undefined && event.data_base64 !== undefined) {
      counted.rejected.inc();
      return {
        outcome: 'reject',
        detail: `type "${event.type}" has a registered JSON Schema; its data must be JSON, not data_base64`,
        errors: [{ pointer: '/data_base64', detail: 'must be JSON data (`data`)' }],
      };
    }
    const result = target.compiled.validate(event.data);
    // Only the policy of a governed domain reads the findings.
    if (governed(event.type)) findings.set(event, { hasSchema: true, pii: result.pii });
    if (result.errors.length === 0) {
      counted.valid.inc();
      return { outcome: 'accept' };
    }
    const errors = result.errors.map((e) => ({ pointer: `/data${e.pointer}`, detail: e.detail }));
    const against = `schema "${target.subject}" version ${target.version} (id ${target.id})`;
    if (target.mode === 'warn') {
      counted.warned.inc();
      const listed = errors.slice(0, MAX_WARNED_FIELDS).map((e) => `${e.pointer} ${e.detail}`);
      const more =
        errors.length > MAX_WARNED_FIELDS ? `, and ${errors.length - MAX_WARNED_FIELDS} more` : '';
      return {
        outcome: 'accept',
        warnings: [`data does not match ${against}: ${listed.join(', ')}${more}`],
      };
    }
    counted.rejected.inc();
    return {
      outcome: 'reject',
      detail: `data does not match ${against}: ${errors[0]!.pointer} ${errors[0]!.detail}${
        errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
      }`,
      errors,
    };
  }

  const policyCheck: PublishCheck = {
    name: 'policy',
    check(event, topic): PublishVerdict {
      const domain = domainOf(topic);
      const policy = Object.hasOwn(domains, domain) ? domains[domain] : undefined;
      if (!policy) return { outcome: 'accept' };
      const finding = findings.get(event) ?? NO_SCHEMA;
      const decision = decide(policy, {
        domain,
        expirytime: event['expirytime'],
        recordedtime: event.recordedtime,
        hasSchema: finding.hasSchema,
        pii: finding.pii,
      });
      const where = {
        tenant: event.tenantid,
        type: event.type,
        id: event.id,
        source: event.source,
      };
      if (decision.outcome === 'deny') {
        decisions.inc({ domain, outcome: 'deny', rule: decision.rule });
        logger.info(
          { ...where, domain, rule: decision.rule, fields: decision.errors.map((e) => e.pointer) },
          'publish policy: event refused',
        );
        return { outcome: 'reject', detail: decision.detail, errors: decision.errors };
      }
      decisions.inc({ domain, outcome: 'allow', rule: 'all' });
      if (decision.stamp) event['expirytime'] = decision.stamp.expirytime;
      logger.debug({ ...where, domain, ...decision.stamp }, 'publish policy: event allowed');
      return { outcome: 'accept' };
    },
  };

  return [schemaCheck, policyCheck];
}

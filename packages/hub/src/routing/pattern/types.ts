/** An EventBridge event pattern, as JSON: fields map to arrays of values/matchers or to nested objects. */
export type Pattern = Record<string, unknown>;

/** One thing wrong with a pattern: a JSON pointer into the pattern and what was expected there. */
export type PatternProblem = { pointer: string; detail: string };

/** Thrown by RuleMatcher.build when a rule's pattern is invalid. */
export class InvalidPatternError extends Error {
  readonly ruleId: string;
  readonly problems: PatternProblem[];

  constructor(ruleId: string, problems: PatternProblem[]) {
    const first = problems[0];
    super(
      `rule "${ruleId}" has an invalid pattern` +
        (first ? `: ${first.pointer || '/'}: ${first.detail}` : '') +
        (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''),
    );
    this.name = 'InvalidPatternError';
    this.ruleId = ruleId;
    this.problems = problems;
  }
}

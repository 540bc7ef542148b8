/**
 * The EventBridge pattern language: validation, a reference interpreter, an explainer for
 * "why did this not match", and RuleMatcher, which compiles many rules into one index.
 */
export type { Pattern, PatternProblem } from './types.ts';
export { InvalidPatternError } from './types.ts';
export { validatePattern } from './validate.ts';
export { explainMatch } from './explain.ts';
export { naiveMatch } from './naive.ts';
export { RuleMatcher } from './rule-matcher.ts';

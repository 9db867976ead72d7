/**
 * @kvlar/core: Kvlar's policy engine. Pure and synchronous: YAML text or values in, decisions
 * out; no I/O, no clock, no randomness. Parse policies, resolve their `extends` through a loader
 * you provide, compile them once into an engine, evaluate actions.
 */

export {
  AMBIGUOUS_FIELD_RULE,
  createEngine,
  type Engine,
  type EngineOptions,
  type Explanation,
  INVALID_ACTION_RULE,
  type RuleTrace,
} from './engine.js';
export { KvlarError, type KvlarErrorCode } from './errors.js';
export { formatIssue, formatPath, type Issue } from './issues.js';
export {
  formatLintFinding,
  type LintCode,
  type LintFinding,
  type LintOptions,
  lintPolicy,
} from './lint.js';
export { normalizePath } from './paths.js';
export {
  type ParseOptions,
  type Policy,
  type PolicyResult,
  parsePolicy,
  validatePolicy,
} from './policy.js';
export { compileFinder, type FinderResult, type RegexFinder, type RegexSpan } from './regex.js';
export {
  type LoadResult,
  type PolicyLoader,
  type ResolvedPolicy,
  type ResolveResult,
  resolvePolicy,
} from './resolve.js';
export {
  ALL_OPERATORS,
  type ConditionDocument,
  type EffectDocument,
  type MatchOnDocument,
  type Operator,
  type PolicyDocument,
  policyJsonSchema,
  type RuleDocument,
} from './schema.js';
export {
  MAX_SHELL_DEPTH,
  MAX_SHELL_LENGTH,
  parseShell,
  type ShellParseResult,
  type ShellWord,
  type SimpleCommand,
  type WrittenPath,
} from './shell.js';
export { didYouMean, suggest } from './suggest.js';
export {
  parseTestSuite,
  runTestCase,
  runTestSuite,
  type SuiteResult,
  type TestCase,
  type TestCaseResult,
  type TestSuite,
  type TestSuiteResult,
  testCaseAction,
} from './testing.js';
export type { Action, Decision, DecisionType } from './types.js';
export { DEFAULT_ALLOW_RULE, DEFAULT_DENY_REASON, DEFAULT_DENY_RULE } from './types.js';

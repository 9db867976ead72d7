/** One policy test file, from disk to results: read, parse, find and load its policy, run. */
import { dirname } from 'node:path';
import {
  createEngine,
  DEFAULT_DENY_RULE,
  type Engine,
  type Issue,
  parseTestSuite,
  type ResolvedPolicy,
  runTestSuite,
  type SuiteResult,
  type TestSuite,
  testCaseAction,
} from '@kvlar/core';
import { loadPolicyFile, readFileAsIssue } from './load-policy.js';
import { absoluteFrom, displayPath, kindOf } from './paths.js';
import type { Runtime } from './runtime.js';

/** A rule as coverage names it: its id and where it was written. */
export interface PolicyRule {
  readonly id: string;
  /** The name of the policy it was written in. */
  readonly policy: string;
  /** That policy's file (`builtin:NAME` for a template), when known. */
  readonly file: string | undefined;
}

/** What coverage needs from one run: the policy's rules and which of them decided each case. */
export interface RuleUse {
  /** Every rule of the policy and of what it extends, in evaluation order, each once. */
  readonly rules: readonly PolicyRule[];
  /** For each case, in order: the index in `rules` of the rule that decided it, or -1 (a default). */
  readonly decidedBy: readonly number[];
}

export type TestFileRun =
  | {
      readonly ok: true;
      readonly file: string;
      readonly policy: string;
      readonly result: SuiteResult;
      readonly warnings: readonly Issue[];
      /** Present when the run was asked for coverage. */
      readonly ruleUse?: RuleUse;
    }
  | { readonly ok: false; readonly file: string; readonly issues: readonly Issue[] };

export interface RunOptions {
  /** The `-p` flag: relative to the working directory. */
  readonly policyOverride?: string | undefined;
  /** Also record which rule decided each case. */
  readonly coverage?: boolean;
}

/**
 * `options.policyOverride` (the `-p` flag) is relative to the working directory; the file's own
 * `policy:` is relative to the test file's directory.
 */
export function runTestFile(absolute: string, options: RunOptions, runtime: Runtime): TestFileRun {
  const { policyOverride } = options;
  const file = displayPath(absolute, runtime.cwd);
  const read = readFileAsIssue(absolute, file, 'test file');
  if (!read.ok) return { ok: false, file, issues: [read.issue] };
  const parsed = parseTestSuite(read.text, { file });
  if (!parsed.ok) return { ok: false, file, issues: parsed.issues };

  const written = parsed.suite.policy;
  const policyPath =
    policyOverride !== undefined
      ? absoluteFrom(runtime.cwd, policyOverride)
      : written !== undefined
        ? absoluteFrom(dirname(absolute), written)
        : undefined;
  if (policyPath === undefined) {
    const issue: Issue = {
      code: 'no_policy',
      severity: 'error',
      message: 'the test file names no policy: add `policy: FILE` or pass -p FILE',
      file,
      path: [],
      line: 1,
      column: 1,
    };
    return { ok: false, file, issues: [issue] };
  }
  if (policyOverride === undefined && kindOf(policyPath) === 'missing') {
    // The path in `policy:` is likely wrong: point at it, in the test file.
    const issue: Issue = {
      code: 'policy_not_found',
      severity: 'error',
      message: `policy "${written}" not found (looked for ${displayPath(policyPath, runtime.cwd)})`,
      file,
      path: ['policy'],
      ...parsed.locate(['policy']),
    };
    return { ok: false, file, issues: [issue] };
  }
  const loaded = loadPolicyFile(policyPath, runtime);
  if (!loaded.ok) return { ok: false, file, issues: loaded.issues };
  const engine = createEngine([loaded.policy]);
  const result = runTestSuite(engine, parsed.suite);
  const run = { ok: true, file, policy: loaded.file, result, warnings: loaded.warnings } as const;
  if (options.coverage !== true) return run;
  return { ...run, ruleUse: ruleUseOf(engine, loaded.policy, parsed.suite) };
}

/**
 * Which rule decided each case, by position: `explain` lists the rules it tried in evaluation
 * order up to the one that decided, so the last one's index is the deciding rule's, even when
 * two policies reuse a rule id. A policy extended twice (a diamond) lists its rules twice; only
 * the first copy can ever decide, so the second is left out rather than reported as untested.
 */
function ruleUseOf(engine: Engine, policy: ResolvedPolicy, suite: TestSuite): RuleUse {
  const rules: PolicyRule[] = [];
  const indexOf: number[] = [];
  const seen = new Map<string, number>();
  for (const rule of policy.rules) {
    const key = JSON.stringify([rule.file ?? null, rule.policy, rule.id]);
    let index = seen.get(key);
    if (index === undefined) {
      index = rules.push({ id: rule.id, policy: rule.policy, file: rule.file }) - 1;
      seen.set(key, index);
    }
    indexOf.push(index);
  }
  const decidedBy = suite.tests.map((test) => {
    const { decision, rules: tried } = engine.explain(testCaseAction(test));
    // `_default_allow` comes after the policy's rules, so it has no index here.
    if (decision.ruleId === DEFAULT_DENY_RULE || tried.length === 0) return -1;
    return indexOf[tried.length - 1] ?? -1;
  });
  return { rules, decidedBy };
}

/**
 * Rule coverage for `kvlar test --coverage`: per policy file, how many cases each rule decided,
 * summed over every test file that tested it. A rule that decided no case is one nothing checks.
 */
import type { PolicyRule, TestFileRun } from './run-tests.js';

export interface RuleCoverage extends PolicyRule {
  /** How many cases this rule decided. */
  readonly tests: number;
}

export interface PolicyCoverage {
  /** The policy file, as `kvlar test` names it. */
  readonly file: string;
  /** Its rules and those of what it extends, in evaluation order. */
  readonly rules: readonly RuleCoverage[];
  readonly covered: number;
  /** Covered rules in percent, rounded down to one decimal (100 for a policy without rules). */
  readonly percent: number;
}

export interface Coverage {
  readonly policies: readonly PolicyCoverage[];
  readonly rules: number;
  readonly covered: number;
  readonly percent: number;
}

/** The coverage of the runs that completed, in the order their policies were first tested. */
export function coverageOf(runs: readonly TestFileRun[]): Coverage {
  const byPolicy = new Map<string, { rules: readonly PolicyRule[]; tests: number[] }>();
  for (const run of runs) {
    if (!run.ok || run.ruleUse === undefined) continue;
    const { rules, decidedBy } = run.ruleUse;
    let entry = byPolicy.get(run.policy);
    if (entry === undefined) {
      entry = { rules, tests: rules.map(() => 0) };
      byPolicy.set(run.policy, entry);
    }
    for (const index of decidedBy) {
      if (index >= 0 && index < entry.tests.length) entry.tests[index]! += 1;
    }
  }
  const policies = [...byPolicy].map(([file, { rules, tests }]): PolicyCoverage => {
    const covered = tests.filter((count) => count > 0).length;
    return {
      file,
      rules: rules.map((rule, index) => ({ ...rule, tests: tests[index] ?? 0 })),
      covered,
      percent: percentOf(covered, rules.length),
    };
  });
  const rules = policies.reduce((total, policy) => total + policy.rules.length, 0);
  const covered = policies.reduce((total, policy) => total + policy.covered, 0);
  return { policies, rules, covered, percent: percentOf(covered, rules) };
}

/** Rounded down, so a policy just short of a minimum never shows as meeting it. */
export function percentOf(part: number, whole: number): number {
  if (whole === 0) return 100;
  return Math.floor((part * 1000) / whole) / 10;
}

/** `66.6%`, `100%`. */
export function formatPercent(percent: number): string {
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}

/** The policies whose coverage is below `min` percent. */
export function belowMinimum(coverage: Coverage, min: number): PolicyCoverage[] {
  return coverage.policies.filter((policy) => exactPercent(policy) < min);
}

function exactPercent(policy: PolicyCoverage): number {
  return policy.rules.length === 0 ? 100 : (policy.covered * 100) / policy.rules.length;
}

/**
 * Policy test files, in the Rust Kvlar's format, and a pure runner. Results keep the Rust JSON
 * shape (`actual_decision`, `actual_rule`, …), which `kvlar test --json` prints as is.
 */
import { z } from 'zod';
import type { Engine } from './engine.js';
import type { Issue } from './issues.js';
import type { Action } from './types.js';
import { parseYaml, withFile } from './yaml-source.js';
import { convertZodIssues } from './zod-issues.js';

const EXPECTATIONS = ['allow', 'deny', 'require_approval', 'requireapproval', 'approval'] as const;

const TestActionSchema = z.strictObject({
  resource: z.string(),
  action_type: z.string().optional(),
  agent_id: z.string().optional(),
  server: z.string().optional(),
  parameters: z.record(z.string(), z.json()).optional(),
});

const TestCaseSchema = z.strictObject({
  id: z.string().min(1, 'must not be empty'),
  description: z.string().optional(),
  action: TestActionSchema,
  expect: z
    .string()
    .refine((value) => (EXPECTATIONS as readonly string[]).includes(value.trim().toLowerCase()), {
      message: 'expected allow, deny or require_approval (or approval)',
    }),
  rule: z.string().optional(),
  reason_contains: z.string().optional(),
});

const TestSuiteSchema = z.strictObject({
  policy: z.string().optional(),
  tests: z.array(TestCaseSchema),
});

/** One case of a policy test file: an action, the decision it must get, maybe rule and reason. */
export type TestCase = z.infer<typeof TestCaseSchema>;
/** A policy test file (`NAME.test.yaml`): the policy it tests and its cases. */
export type TestSuite = z.infer<typeof TestSuiteSchema>;

/** `parseTestSuite`'s answer: the suite, or every issue found. */
export type TestSuiteResult =
  | {
      readonly ok: true;
      readonly suite: TestSuite;
      /** Where a path inside the file was written (`['policy']`, `['tests', 2, 'id']`). */
      locate(path: readonly (string | number)[]): { line: number; column: number } | undefined;
    }
  | { readonly ok: false; readonly issues: readonly Issue[] };

const KEYS = {
  suite: Object.keys(TestSuiteSchema.shape),
  test: Object.keys(TestCaseSchema.shape),
  action: Object.keys(TestActionSchema.shape),
};

const TEXT_PATHS = [
  ['policy'],
  ...['id', 'description', 'expect', 'rule', 'reason_contains'].map((key) => ['tests', '*', key]),
  ...['resource', 'action_type', 'agent_id', 'server'].map((key) => ['tests', '*', 'action', key]),
];

/** Parses and validates a policy test file (`*.test.yaml`). Never throws. */
export function parseTestSuite(text: string, options: { file?: string } = {}): TestSuiteResult {
  const parsed = parseYaml(text, options.file, 'test file', TEXT_PATHS);
  if (!parsed.ok) return parsed;
  const result = TestSuiteSchema.safeParse(parsed.source.value);
  if (result.success) {
    // The validated input rather than zod's copy, which would drop an own `__proto__` argument.
    const suite = parsed.source.value as TestSuite;
    const issues = duplicateIds(suite, parsed.source, options.file);
    if (issues.length > 0) return { ok: false, issues };
    return { ok: true, suite, locate: (path) => parsed.source.locate(path) };
  }
  const issues = convertZodIssues(result.error.issues, {
    source: parsed.source,
    file: options.file,
    keysAt: (path) =>
      path.length === 0 ? KEYS.suite : path.at(-1) === 'action' ? KEYS.action : KEYS.test,
  });
  return { ok: false, issues };
}

function duplicateIds(
  suite: TestSuite,
  source: {
    locate(path: readonly (string | number)[]): { line: number; column: number } | undefined;
  },
  file: string | undefined,
): Issue[] {
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  suite.tests.forEach((test, index) => {
    const first = seen.get(test.id);
    if (first === undefined) {
      seen.set(test.id, index);
      return;
    }
    const path = ['tests', index, 'id'];
    issues.push({
      code: 'duplicate_test_id',
      severity: 'error',
      message: `duplicate test id "${test.id}" (first used by tests[${first}])`,
      path,
      ...withFile(file),
      ...source.locate(path),
    });
  });
  return issues;
}

/** One case's outcome, in the Rust Kvlar's JSON shape. */
export interface TestCaseResult {
  readonly id: string;
  readonly passed: boolean;
  readonly actual_decision: string;
  readonly actual_rule: string;
  readonly actual_reason: string | null;
  readonly failures: readonly string[];
}

/** Every case's result, and the counts. */
export interface SuiteResult {
  readonly results: readonly TestCaseResult[];
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
}

/** The action a test case describes, with the Rust defaults (`tool_call`, `test-agent`). */
export function testCaseAction(test: TestCase): Action {
  return {
    actionType: test.action.action_type ?? 'tool_call',
    resource: test.action.resource,
    agentId: test.action.agent_id ?? 'test-agent',
    ...(test.action.server === undefined ? {} : { server: test.action.server }),
    parameters: test.action.parameters ?? {},
  };
}

/** Evaluates one case's action and compares the decision with what the case expects. */
export function runTestCase(engine: Engine, test: TestCase): TestCaseResult {
  const decision = engine.evaluate(testCaseAction(test));
  const failures: string[] = [];
  if (!expectationHolds(test.expect, decision.type)) {
    failures.push(`expected decision '${test.expect}', got '${decision.type}'`);
  }
  if (test.rule !== undefined && decision.ruleId !== test.rule) {
    failures.push(`expected rule '${test.rule}', got '${decision.ruleId}'`);
  }
  if (test.reason_contains !== undefined) {
    if (decision.reason === undefined) {
      failures.push(
        `expected reason containing '${test.reason_contains}', but decision has no reason`,
      );
    } else if (!decision.reason.includes(test.reason_contains)) {
      failures.push(
        `expected reason to contain '${test.reason_contains}', got '${decision.reason}'`,
      );
    }
  }
  return {
    id: test.id,
    passed: failures.length === 0,
    actual_decision: decision.type,
    actual_rule: decision.ruleId,
    actual_reason: decision.reason ?? null,
    failures,
  };
}

/** Runs every case of a suite against an engine (the caller builds it from the suite's policy). */
export function runTestSuite(engine: Engine, suite: TestSuite): SuiteResult {
  const results = suite.tests.map((test) => runTestCase(engine, test));
  const passed = results.filter((result) => result.passed).length;
  return { results, total: results.length, passed, failed: results.length - passed };
}

function expectationHolds(expected: string, actual: string): boolean {
  const wanted = expected.trim().toLowerCase();
  if (wanted === 'requireapproval' || wanted === 'approval') return actual === 'require_approval';
  return wanted === actual;
}

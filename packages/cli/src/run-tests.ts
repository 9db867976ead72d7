/** One policy test file, from disk to results: read, parse, find and load its policy, run. */
import { dirname } from 'node:path';
import {
  createEngine,
  type Issue,
  parseTestSuite,
  runTestSuite,
  type SuiteResult,
} from '@kvlar/core';
import { loadPolicyFile, readFileAsIssue } from './load-policy.js';
import { absoluteFrom, displayPath, kindOf } from './paths.js';
import type { Runtime } from './runtime.js';

export type TestFileRun =
  | {
      readonly ok: true;
      readonly file: string;
      readonly policy: string;
      readonly result: SuiteResult;
      readonly warnings: readonly Issue[];
    }
  | { readonly ok: false; readonly file: string; readonly issues: readonly Issue[] };

/**
 * `policyOverride` (the `-p` flag) is relative to the working directory; the file's own
 * `policy:` is relative to the test file's directory.
 */
export function runTestFile(
  absolute: string,
  policyOverride: string | undefined,
  runtime: Runtime,
): TestFileRun {
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
  return { ok: true, file, policy: loaded.file, result, warnings: loaded.warnings };
}

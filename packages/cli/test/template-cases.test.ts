/**
 * Every case of every shipped template's test file (policies/NAME.test.yaml), one test each, run
 * against the repository's templates. `kvlar test` runs the same files; this gives each case its
 * own result, so docs/security.md can cite the cases that hold an attack (SSRF spellings, shell
 * evasions, SQL after `;`) and scripts/security-report.mjs can report each one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createEngine,
  formatIssue,
  parsePolicy,
  parseTestSuite,
  resolvePolicy,
  runTestCase,
} from '@kvlar/core';
import { describe, expect, it } from 'vitest';
import { REPO_POLICIES } from './helpers.js';

const TEST_FILES = readdirSync(REPO_POLICIES)
  .filter((name) => name.endsWith('.test.yaml'))
  .sort();

for (const name of TEST_FILES) {
  const path = join(REPO_POLICIES, name);
  const parsed = parseTestSuite(readFileSync(path, 'utf8'), { file: path });
  if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join('\n'));
  const policyFile = join(
    REPO_POLICIES,
    parsed.suite.policy ?? name.replace(/\.test\.yaml$/, '.yaml'),
  );
  const policy = parsePolicy(readFileSync(policyFile, 'utf8'), { file: policyFile });
  if (!policy.ok) throw new Error(policy.issues.map(formatIssue).join('\n'));
  const resolved = resolvePolicy(policy.policy);
  if (!resolved.ok) throw new Error(resolved.issues.map(formatIssue).join('\n'));
  const engine = createEngine([resolved.policy]);

  describe(`policies/${name}`, () => {
    it.each(parsed.suite.tests.map((test) => [test.id, test] as const))(
      'decides %s as the file expects',
      (_id, test) => {
        expect(runTestCase(engine, test).failures).toEqual([]);
      },
    );
  });
}

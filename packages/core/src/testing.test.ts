import { describe, expect, it } from 'vitest';
import { engineFrom } from '../test/helpers.js';
import { formatIssue, parseTestSuite, runTestSuite, type TestSuite } from './index.js';

const POLICY = `
name: t
version: "1"
rules:
  - id: deny-bash
    match_on: { resources: [bash] }
    effect: { type: deny, reason: No bash allowed }
  - id: approve-email
    match_on: { resources: [send_email], agent_ids: [test-agent] }
    effect: { type: require_approval, reason: Email requires approval }
  - id: allow-read
    match_on: { resources: [read_file], conditions: [{ field: path, operator: starts_with, value: /tmp }] }
    effect: { type: allow }
`;

function suiteFrom(yaml: string): TestSuite {
  const result = parseTestSuite(yaml, { file: 't.test.yaml' });
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
  return result.suite;
}

describe('policy test files', () => {
  const engine = engineFrom(POLICY);

  it('runs Rust-format cases with their defaults and reports in the Rust JSON shape', () => {
    const suite = suiteFrom(`
policy: policy.yaml
tests:
  - id: deny-bash
    action: { resource: bash }
    expect: deny
    rule: deny-bash
    reason_contains: bash
  - id: email
    description: test-agent is the default agent
    action: { resource: send_email }
    expect: Approval
  - id: email-snake
    action: { resource: send_email, action_type: tool_call, agent_id: test-agent }
    expect: " REQUIRE_APPROVAL "
  - id: read
    action: { resource: read_file, parameters: { path: /tmp/x } }
    expect: allow
    rule: allow-read
`);
    expect(suite.policy).toBe('policy.yaml');
    expect(runTestSuite(engine, suite)).toEqual({
      results: [
        {
          id: 'deny-bash',
          passed: true,
          actual_decision: 'deny',
          actual_rule: 'deny-bash',
          actual_reason: 'No bash allowed',
          failures: [],
        },
        {
          id: 'email',
          passed: true,
          actual_decision: 'require_approval',
          actual_rule: 'approve-email',
          actual_reason: 'Email requires approval',
          failures: [],
        },
        {
          id: 'email-snake',
          passed: true,
          actual_decision: 'require_approval',
          actual_rule: 'approve-email',
          actual_reason: 'Email requires approval',
          failures: [],
        },
        {
          id: 'read',
          passed: true,
          actual_decision: 'allow',
          actual_rule: 'allow-read',
          actual_reason: null,
          failures: [],
        },
      ],
      total: 4,
      passed: 4,
      failed: 0,
    });
  });

  it('explains each failure in the Rust wording', () => {
    const suite = suiteFrom(`
tests:
  - id: wrong
    action: { resource: bash }
    expect: allow
    rule: allow-read
    reason_contains: shell
  - id: no-reason
    action: { resource: read_file, parameters: { path: /tmp/x } }
    expect: allow
    reason_contains: anything
  - id: default
    action: { resource: unknown }
    expect: deny
    rule: _default_deny
    reason_contains: fail-closed
`);
    const result = runTestSuite(engine, suite);
    expect(result).toMatchObject({ total: 3, passed: 1, failed: 2 });
    expect(result.results[0]!.failures).toEqual([
      "expected decision 'allow', got 'deny'",
      "expected rule 'allow-read', got 'deny-bash'",
      "expected reason to contain 'shell', got 'No bash allowed'",
    ]);
    expect(result.results[1]!.failures).toEqual([
      "expected reason containing 'anything', but decision has no reason",
    ]);
  });

  it('reports _ambiguous_field for a case that gives a dotted field two values', () => {
    const engine = engineFrom(
      'name: p\nversion: "1"\nrules:\n  - id: safe\n    match_on: { conditions: [{ field: target.path, operator: path_under, value: /safe }] }\n    effect: { type: allow }\n',
    );
    const suite = suiteFrom(`
tests:
  - id: two-ways
    action:
      resource: write_file
      parameters: { target.path: /safe/x, target: { path: /etc/passwd } }
    expect: deny
    rule: _ambiguous_field
    reason_contains: '"target.path"'
`);
    expect(runTestSuite(engine, suite).results[0]).toMatchObject({
      passed: true,
      actual_decision: 'deny',
      actual_rule: '_ambiguous_field',
    });
  });

  it('reads unquoted numbers in text fields as written', () => {
    const suite = suiteFrom(
      'tests:\n  - id: 1\n    action: { resource: 8080, agent_id: 7 }\n    expect: deny\n    rule: 404\n',
    );
    expect(suite.tests[0]).toMatchObject({
      id: '1',
      rule: '404',
      action: { resource: '8080', agent_id: '7' },
    });
  });

  it('keeps a __proto__ argument of a test case', () => {
    const engine = engineFrom(
      'name: p\nversion: "1"\nrules:\n  - id: proto\n    match_on: { parameters: { __proto__: x } }\n    effect: { type: allow }\n',
    );
    const suite = suiteFrom(
      'tests:\n  - id: a\n    action: { resource: t, parameters: { __proto__: x } }\n    expect: allow\n',
    );
    expect(runTestSuite(engine, suite).results[0]).toMatchObject({
      passed: true,
      actual_rule: 'proto',
    });
  });

  it.each([
    [
      'a shortened key',
      'tests:\n  - id: a\n    action: { resource: x, agent: y }\n    expect: deny\n',
      't.test.yaml:3:28: error: tests[0].action.agent: unknown key "agent" (did you mean "agent_id"?)',
    ],
    [
      'an unknown key',
      'tests:\n  - id: a\n    action: { resource: x }\n    expect: deny\n    rules: x\n',
      't.test.yaml:5:5: error: tests[0].rules: unknown key "rules" (did you mean "rule"?)',
    ],
    [
      'an unknown action key',
      'tests:\n  - id: a\n    action: { tool: x, resource: x }\n    expect: deny\n',
      't.test.yaml:3:15: error: tests[0].action.tool: unknown key "tool"',
    ],
    [
      'an unknown expectation',
      'tests:\n  - id: a\n    action: { resource: x }\n    expect: denied\n',
      't.test.yaml:4:13: error: tests[0].expect: expected allow, deny or require_approval (or approval)',
    ],
    [
      'a missing resource',
      'tests:\n  - id: a\n    action: {}\n    expect: deny\n',
      't.test.yaml:3:13: error: tests[0].action: missing required key "resource"',
    ],
    [
      'a duplicate id',
      'tests:\n  - id: a\n    action: { resource: x }\n    expect: deny\n  - id: a\n    action: { resource: x }\n    expect: deny\n',
      't.test.yaml:5:9: error: tests[1].id: duplicate test id "a" (first used by tests[0])',
    ],
  ])('rejects a test file with %s', (_what, yaml, message) => {
    const result = parseTestSuite(yaml, { file: 't.test.yaml' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatIssue(result.issues[0]!)).toBe(message);
  });
});

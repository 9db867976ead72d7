import { describe, expect, it } from 'vitest';
import { formatIssue, type Issue, parsePolicy, validatePolicy } from './index.js';

function issuesOf(yaml: string): Issue[] {
  const result = parsePolicy(yaml, { file: 'p.yaml' });
  if (result.ok) throw new Error('expected the policy to be rejected');
  return [...result.issues];
}

const HEAD = 'name: p\nversion: "1"\nrules:\n';

describe('parsePolicy', () => {
  it('accepts a Rust-era policy with descriptions, extends and default_outcome', () => {
    const result = parsePolicy(
      `name: rust\ndescription: from v0.4\nversion: "1.0"\nextends: [default]\ndefault_outcome: allow\nrules:\n  - id: a\n    description: d\n    match_on: {}\n    effect: { type: allow }\n`,
    );
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.policy).toMatchObject({
        name: 'rust',
        version: '1.0',
        extends: ['default'],
        defaultOutcome: 'allow',
      });
    }
  });

  it('reads unquoted numbers and booleans in text fields as written, as serde_yaml did', () => {
    const result = parsePolicy(
      `name: 2024\nversion: 1.0\nrules:\n  - id: 100\n    match_on: { resources: [8080, true], parameters: { port: 08080 } }\n    effect: { type: deny, reason: 404 }\n`,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy).toMatchObject({ name: '2024', version: '1.0' });
    expect(result.policy.rules[0]).toEqual({
      id: '100',
      match_on: { resources: ['8080', 'true'], parameters: { port: '08080' } },
      effect: { type: 'deny', reason: '404' },
    });
  });

  it('still refuses a number where a number is not text, and null where text belongs', () => {
    expect(
      issuesOf(
        `${HEAD}  - id: a\n    match_on: { conditions: [{ field: x, operator: contains, value: 3 }] }\n    effect: { type: allow }\n`,
      )[0],
    ).toMatchObject({ code: 'wrong_type' });
    expect(issuesOf('name: p\nversion: ~\nrules: []\n')[0]).toMatchObject({ code: 'wrong_type' });
  });

  it('accepts a single extends name as well as a list', () => {
    const result = parsePolicy('name: p\nversion: "1"\nextends: default\nrules: []\n');
    expect(result.ok && result.policy.extends).toEqual(['default']);
  });

  it.each([
    [
      'an unknown key, with a did-you-mean',
      `${HEAD}  - id: a\n    match_on: { resource: [bash] }\n    effect: { type: allow }\n`,
      'unknown_key',
      [5, 17],
      'p.yaml:5:17: error: rules[0].match_on.resource: unknown key "resource" (did you mean "resources"?)',
    ],
    [
      'a list where a string belongs',
      'name: p\nversion: [1]\nrules: []\n',
      'wrong_type',
      [2, 10],
      'p.yaml:2:10: error: version: expected a string, found a list',
    ],
    [
      'a missing required key',
      'name: p\nversion: "1"\n',
      'missing_key',
      [1, 1],
      'p.yaml:1:1: error: missing required key "rules"',
    ],
    [
      'an invalid regex',
      `${HEAD}  - id: a\n    match_on: { parameters: { cmd: "rm(" } }\n    effect: { type: allow }\n`,
      'invalid_regex',
      [5, 36],
      'p.yaml:5:36: error: rules[0].match_on.parameters.cmd: invalid regex "rm(": missing closing ): `rm(`',
    ],
    [
      'an invalid glob in a name pattern',
      `${HEAD}  - id: a\n    match_on: { resources: ["read_[abc"] }\n    effect: { type: allow }\n`,
      'invalid_glob',
      [5, 29],
      'p.yaml:5:29: error: rules[0].match_on.resources[0]: invalid glob "read_[abc": unclosed "[" class',
    ],
    [
      'an invalid glob in a condition',
      `${HEAD}  - id: a\n    match_on: { conditions: [{ field: p, operator: glob, value: "@(x)" }] }\n    effect: { type: allow }\n`,
      'invalid_glob',
      [5, 65],
      undefined,
    ],
    [
      'a duplicate rule id',
      `${HEAD}  - id: a\n    match_on: {}\n    effect: { type: allow }\n  - id: a\n    match_on: {}\n    effect: { type: allow }\n`,
      'duplicate_rule_id',
      [7, 9],
      'p.yaml:7:9: error: rules[1].id: duplicate rule id "a" (first used by rules[0])',
    ],
    [
      'an empty match_on list',
      `${HEAD}  - id: a\n    match_on: { resources: [] }\n    effect: { type: allow }\n`,
      'too_small',
      [5, 28],
      'p.yaml:5:28: error: rules[0].match_on.resources: must list at least one pattern (omit the key to match everything)',
    ],
    [
      'an unknown operator',
      `${HEAD}  - id: a\n    match_on: { conditions: [{ field: x, operator: equal, value: 1 }] }\n    effect: { type: allow }\n`,
      'invalid_value',
      [5, 52],
      undefined,
    ],
    [
      'a deny without a reason',
      `${HEAD}  - id: a\n    match_on: {}\n    effect: { type: deny }\n`,
      'missing_key',
      [6, 13],
      'p.yaml:6:13: error: rules[0].effect: missing required key "reason"',
    ],
    [
      'a misspelt effect type',
      `${HEAD}  - id: a\n    match_on: {}\n    effect: { type: alow }\n`,
      'invalid_value',
      [6, 21],
      'p.yaml:6:21: error: rules[0].effect.type: unknown type "alow" (did you mean "allow"?); expected one of allow, deny, require_approval',
    ],
    [
      'ignore_case on a numeric operator',
      `${HEAD}  - id: a\n    match_on: { conditions: [{ field: n, operator: gt, value: 1, ignore_case: true }] }\n    effect: { type: allow }\n`,
      'unknown_key',
      [5, 66],
      undefined,
    ],
    [
      'a relative path_under base',
      `${HEAD}  - id: a\n    match_on: { conditions: [{ field: p, operator: path_under, value: data }] }\n    effect: { type: allow }\n`,
      'relative_path',
      [5, 71],
      undefined,
    ],
    [
      'an invalid domain',
      `${HEAD}  - id: a\n    match_on: { conditions: [{ field: u, operator: in_domain, value: "exa mple.com" }] }\n    effect: { type: allow }\n`,
      'invalid_domain',
      [5, 70],
      undefined,
    ],
    ['malformed YAML', 'name: [unclosed\n', 'yaml_syntax', [2, 1], undefined],
    [
      'duplicate YAML keys',
      'name: a\nname: b\nversion: "1"\nrules: []\n',
      'yaml_syntax',
      [2, 1],
      undefined,
    ],
    [
      'an empty file',
      '',
      'empty_file',
      [1, 1],
      'p.yaml:1:1: error: the file is empty; expected a YAML policy',
    ],
    ['a comment-only file', '# nothing\n', 'empty_file', [1, 1], undefined],
    ['binary garbage', 'name: x\n\u0000\u0001\u00ff', 'not_text', [2, 1], undefined],
    [
      'a scalar instead of a mapping',
      'just text',
      'wrong_type',
      [1, 1],
      'p.yaml:1:1: error: expected a mapping, found "just text"',
    ],
    ['two YAML documents', 'name: a\n---\nname: b\n', 'multiple_documents', [2, 1], undefined],
  ] as const)('reports %s', (_what, yaml, code, [line, column], formatted) => {
    const issues = issuesOf(yaml);
    expect(issues[0]).toMatchObject({ code, severity: 'error', file: 'p.yaml', line, column });
    if (formatted !== undefined) expect(formatIssue(issues[0]!)).toBe(formatted);
    for (const issue of issues) expect(formatIssue(issue)).not.toContain('\n');
  });

  it('reports every problem of a file, in order of position', () => {
    const issues = issuesOf(
      `name: p\nversion: [2]\nrules:\n  - id: a\n    match_on: { resource: [x], agent_id: [y] }\n    effect: { type: allow }\n`,
    );
    expect(issues.map((issue) => [issue.code, issue.line])).toEqual([
      ['wrong_type', 2],
      ['unknown_key', 5],
      ['unknown_key', 5],
    ]);
    expect(issues[2]!.message).toContain('did you mean "agent_ids"?');
  });

  it.each([
    [
      'ignore_case on exists',
      '{ field: x, operator: exists, ignore_case: true }',
      'key "ignore_case" is not allowed here: only text operators take ignore_case, not numbers, domains or exists',
    ],
    [
      'a comparison mixed with any',
      '{ any: [{ field: x, operator: exists }], field: y }',
      'key "field" is not allowed here: a condition is either a comparison (field, operator, value) or exactly one of any, all, not',
    ],
    ['eq without a value', '{ field: x, operator: eq }', 'missing required key "value"'],
    [
      'a wildcard domain',
      '{ field: u, operator: in_domain, value: "*.example.com" }',
      '"*.example.com" has a wildcard; write "example.com": subdomains are included',
    ],
    [
      'a URL as a domain',
      '{ field: u, operator: not_in_domain, value: ["https://example.com"] }',
      '"https://example.com" is a URL; write the domain alone, e.g. "example.com"',
    ],
  ])('explains %s plainly', (_what, condition, message) => {
    const issues = issuesOf(
      `${HEAD}  - id: a\n    match_on: { conditions: [${condition}] }\n    effect: { type: allow }\n`,
    );
    expect(issues.map((issue) => issue.message)).toContain(message);
  });

  it('names an unknown key misspelt where a discriminator was expected', () => {
    const issues = issuesOf(
      `${HEAD}  - id: a\n    match_on: { conditions: [{ field: x, operatr: eq, value: 1 }] }\n    effect: { type: allow }\n`,
    );
    expect(issues.map((issue) => issue.message)).toContainEqual(
      'unknown key "operatr" (did you mean "operator"?)',
    );
  });

  it('refuses conditions nested beyond 32 levels, and never throws on deeper YAML', () => {
    const nested = (depth: number) =>
      `${HEAD}  - id: a\n    match_on:\n      conditions:\n        - ${'{ not: '.repeat(depth)}{ field: a, operator: exists }${' }'.repeat(depth)}\n    effect: { type: allow }\n`;
    expect(parsePolicy(nested(31)).ok).toBe(true);
    expect(issuesOf(nested(32))[0]).toMatchObject({ code: 'too_deep', line: 7 });
    expect(issuesOf(nested(20_000))[0]!.severity).toBe('error');
  });

  it('guards against YAML alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');
    expect(issuesOf(bomb)[0]).toMatchObject({ code: 'yaml_syntax' });
  });
});

describe('validatePolicy', () => {
  it('validates a policy built in code, without positions', () => {
    const result = validatePolicy({
      name: 'p',
      version: '1',
      rules: [{ id: 'a', match_on: {}, effect: { type: 'allow' }, extra: 1 }],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]).toMatchObject({ code: 'unknown_key', path: ['rules', 0, 'extra'] });
      expect(result.issues[0]!.line).toBeUndefined();
    }
  });
});

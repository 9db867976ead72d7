import { describe, expect, it } from 'vitest';
import { memoryLoader, resolved } from '../test/helpers.js';
import {
  createEngine,
  formatLintFinding,
  type LintFinding,
  type LintOptions,
  lintPolicy,
} from './index.js';

/** The findings for a policy whose rules are `rules` (YAML list items, two-space indented). */
function lint(rules: string, options: LintOptions = {}, head = ''): LintFinding[] {
  const yaml = `name: p\nversion: "1"\n${head}rules:\n${rules}`;
  return lintPolicy(resolved(yaml, undefined, 'p.yaml'), options);
}

function codes(findings: readonly LintFinding[]): string[] {
  return findings.map(
    (finding) => `${finding.code} ${finding.ruleId ?? ''}<${finding.otherRuleId ?? ''}`,
  );
}

const rule = (id: string, matchOn: string, effect = 'deny') =>
  `  - id: ${id}\n    match_on: ${matchOn}\n    effect: { type: ${effect}${effect === 'allow' ? '' : ', reason: r'} }\n`;

describe('lintPolicy: shadowed-rule', () => {
  it('reports a rule after a catch-all, pointing at it', () => {
    const findings = lint(
      rule('everything', '{}', 'allow') + rule('deny-bash', '{ resources: [bash] }'),
    );
    expect(findings).toEqual([
      {
        code: 'shadowed-rule',
        severity: 'error',
        message:
          'deny rule "deny-bash" can never decide: allow rule "everything" comes first and matches every action it matches',
        ruleId: 'deny-bash',
        otherRuleId: 'everything',
        file: 'p.yaml',
        line: 7,
        column: 5,
        path: ['rules', 1],
      },
    ]);
    expect(formatLintFinding(findings[0]!)).toBe(
      'p.yaml:7:5: error: shadowed-rule: deny rule "deny-bash" can never decide: allow rule "everything" comes first and matches every action it matches',
    );
  });

  it('reports a duplicate rule and a pattern inside an earlier one', () => {
    expect(
      codes(
        lint(
          rule('a', '{ resources: [bash] }') +
            rule('a-again', '{ resources: [bash] }') +
            rule('reads', '{ resources: ["read_*"] }', 'allow') +
            rule('read-file', '{ resources: [read_file, "read_?ext", "read_[ab]*"] }', 'allow') +
            rule('files', '{ resources: ["*_file"] }') +
            rule('write-file', '{ resources: ["write_file", "*_big_file"] }', 'require_approval'),
        ),
      ),
    ).toEqual([
      'shadowed-rule a-again<a',
      'shadowed-rule read-file<reads',
      'allow-hides-deny files<reads', // read_file
      'shadowed-rule write-file<files',
    ]);
  });

  it('reports a rule covered only by several earlier rules together, naming them', () => {
    const findings = lint(
      rule('reads', '{ resources: ["read_*"] }', 'allow') +
        rule('writes', '{ resources: ["write_*"] }', 'require_approval') +
        rule('both', '{ resources: [read_x, write_y] }'),
    );
    expect(codes(findings)).toEqual(['shadowed-rule both<reads']);
    expect(findings[0]!.message).toBe(
      'deny rule "both" can never decide: allow rule "reads", require_approval rule "writes" come first and together match every action it matches',
    );
  });

  it('does not report rules that earlier ones only partly cover (near misses)', () => {
    const findings = lint(
      rule('reads', '{ resources: ["read_*"] }') +
        rule('read-star', '{ resources: ["read*"] }') + // `read` and `readme` are not read_*
        rule('files', '{ resources: ["*_file"] }') +
        rule('x-files', '{ resources: ["*_file", "*_files"] }') +
        rule('db', '{ resources: ["db_?"] }') +
        rule('db2', '{ resources: ["db_??"] }') +
        rule('class', '{ resources: ["[ab]_x"] }') +
        rule('class2', '{ resources: ["[abc]_x"] }'),
    );
    expect(findings).toEqual([]);
  });

  it('takes argument checks into account: an earlier rule with checks covers only the same checks', () => {
    const checked =
      '{ resources: [bash], parameters: { command: "rm" }, conditions: [{ field: cwd, operator: eq, value: / }] }';
    expect(
      codes(
        lint(
          rule('rm', '{ resources: [bash], parameters: { command: "rm" } }') +
            rule('bash', '{ resources: [bash] }') + // not shadowed: rm only covers commands with rm
            rule('rm-in-root', checked) + // shadowed: same parameter, one more condition
            rule('other-rm', '{ resources: [bash], parameters: { command: "rm " } }'), // other regex
        ),
      ),
    ).toEqual(['shadowed-rule rm-in-root<rm', 'shadowed-rule other-rm<bash']);
  });

  it('treats a condition written differently as different, even if it means the same', () => {
    expect(
      lint(
        rule('a', '{ conditions: [{ field: x, operator: eq, value: 1 }] }') +
          rule('b', '{ conditions: [{ field: x, operator: in, value: [1] }] }'),
      ),
    ).toEqual([]);
  });

  it('knows an absent key matches more than `*`: names with a newline, actions without a server', () => {
    // An action type or agent id may hold a newline, which `*` does not match.
    expect(
      codes(
        lint(
          rule('stars', '{ action_types: ["*"], agent_ids: ["*"] }', 'allow') +
            rule('bash', '{ resources: [bash] }'),
        ),
      ),
    ).toEqual(['allow-hides-deny bash<stars']);
    // A rule naming servers never matches an action that names none.
    const findings = lint(
      rule('fs', '{ servers: [fs] }', 'allow') + rule('ls', '{ resources: [ls] }'),
    );
    expect(codes(findings)).toEqual(['allow-hides-deny ls<fs']);
    expect(findings[0]!.example).toEqual({
      actionType: 'tool_call',
      resource: 'ls',
      agentId: 'test-agent',
      server: 'fs',
    });
  });

  it('reports what a rule restricting other names leaves out, and what covers them', () => {
    expect(
      codes(
        lint(
          rule('types', '{ action_types: [tool_call] }') +
            rule('tool-bash', '{ action_types: [tool_call], resources: [bash] }') +
            rule('fs', '{ servers: ["fs*"] }') +
            rule('fs1', '{ servers: [fs1], resources: [x] }') +
            rule('agents', '{ agent_ids: ["bot-*"] }') +
            rule('bot1', '{ agent_ids: [bot-1, "bot-[0-9]*"] }'),
        ),
      ),
    ).toEqual([
      'shadowed-rule tool-bash<types',
      'shadowed-rule fs1<fs',
      'shadowed-rule bot1<agents',
    ]);
  });

  it('a `*` never covers a pattern that can match a newline', () => {
    expect(
      lint(
        rule('star', '{ resources: ["*"] }') +
          rule('negated', '{ resources: ["[!x]"] }') +
          rule('literal', '{ resources: ["a\\nb"] }'),
      ),
    ).toEqual([]);
    expect(
      codes(lint(rule('star', '{ resources: ["*"] }') + rule('q', '{ resources: ["?", "[ab]"] }'))),
    ).toEqual(['shadowed-rule q<star']);
  });

  it('reports a base rule that the policy shadows, at the policy rule, and not problems inside a base', () => {
    const base = `name: base\nversion: "1"\nrules:\n${rule('deny-bash', '{ resources: [bash] }')}${rule('dup', '{ resources: [bash] }')}${rule('deny-sh', '{ resources: [sh] }')}`;
    const yaml = `name: p\nversion: "1"\nextends: [base.yaml]\nrules:\n${rule('allow-sh', '{ resources: [sh] }', 'allow')}`;
    const findings = lintPolicy(resolved(yaml, memoryLoader({ 'base.yaml': base }), 'p.yaml'));
    expect(findings).toEqual([
      {
        code: 'shadowed-rule',
        severity: 'error',
        message:
          'deny rule "deny-sh" (base.yaml) can never decide: allow rule "allow-sh" comes first and matches every action it matches',
        ruleId: 'deny-sh',
        otherRuleId: 'allow-sh',
        file: 'p.yaml',
        line: 5,
        column: 5,
        path: ['rules', 0],
      },
    ]);
    // Linted on its own, the base reports its duplicate.
    expect(codes(lintPolicy(resolved(base, undefined, 'base.yaml')))).toEqual([
      'shadowed-rule dup<deny-bash',
    ]);
  });

  it('reports between two bases at extends', () => {
    const a = `name: a\nversion: "1"\nrules:\n${rule('all', '{}', 'allow')}`;
    const b = `name: b\nversion: "1"\nrules:\n${rule('deny-bash', '{ resources: [bash] }')}`;
    const yaml = 'name: p\nversion: "1"\nextends: [a.yaml, b.yaml]\nrules: []\n';
    const findings = lintPolicy(
      resolved(yaml, memoryLoader({ 'a.yaml': a, 'b.yaml': b }), 'p.yaml'),
    );
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'shadowed-rule',
        ruleId: 'deny-bash',
        otherRuleId: 'all',
        message:
          'deny rule "deny-bash" (b.yaml) can never decide: allow rule "all" (a.yaml) comes first and matches every action it matches',
        file: 'p.yaml',
        line: 3,
        path: ['extends'],
      }),
    ]);
  });
});

describe('lintPolicy: allow-hides-deny', () => {
  it('warns when an earlier allow takes part of a later deny, with an example the engine agrees with', () => {
    const policy = resolved(
      `name: p\nversion: "1"\nrules:\n${rule('reads', '{ resources: ["read_*"] }', 'allow')}${rule('secrets', '{ resources: [read_secret, bash] }')}`,
      undefined,
      'p.yaml',
    );
    const findings = lintPolicy(policy);
    expect(findings).toEqual([
      {
        code: 'allow-hides-deny',
        severity: 'warning',
        message:
          'deny rule "secrets" does not decide some actions it matches: allow rule "reads" comes first and allows them, e.g. for tool "read_secret"',
        ruleId: 'secrets',
        otherRuleId: 'reads',
        example: { actionType: 'tool_call', resource: 'read_secret', agentId: 'test-agent' },
        file: 'p.yaml',
        line: 7,
        column: 5,
        path: ['rules', 1],
      },
    ]);
    expect(createEngine([policy]).evaluate(findings[0]!.example!).ruleId).toBe('reads');
  });

  it('prefers a tool of the server as the example, and says when the earlier rule asks for approval', () => {
    const findings = lint(
      rule('writes', '{ resources: ["write_*"] }', 'require_approval') +
        rule('no-etc', '{ conditions: [{ field: path, operator: path_under, value: /etc }] }'),
      { tools: ['read_file', 'write_file'] },
    );
    expect(findings.map((finding) => finding.message)).toEqual([
      'deny rule "no-etc" does not decide some actions it matches: require_approval rule "writes" comes first and asks for approval instead, e.g. for tool "write_file"',
    ]);
  });

  it('is silent when the earlier allow has checks the deny lacks, or a deny before it takes the overlap', () => {
    expect(
      lint(
        rule(
          'tmp-reads',
          '{ resources: ["read_*"], conditions: [{ field: path, operator: path_under, value: /tmp }] }',
          'allow',
        ) + rule('secrets', '{ resources: [read_secret, bash] }'),
      ),
    ).toEqual([]);
    expect(
      lint(
        rule('no-secret', '{ resources: [read_secret] }') +
          rule('reads', '{ resources: ["read_*"] }', 'allow') +
          rule('secrets', '{ resources: [read_secret, bash] }'),
      ),
    ).toEqual([]);
    // A deny before an allow is the safe order.
    expect(
      lint(
        rule('secrets', '{ resources: [read_secret] }') +
          rule('reads', '{ resources: ["read_*"] }', 'allow'),
      ),
    ).toEqual([]);
  });

  it('still warns when a conditional rule before the allow takes some of the calls, naming it', () => {
    const findings = lint(
      rule(
        'no-traversal',
        '{ conditions: [{ field: path, operator: matches, value: "[.][.]" }] }',
      ) +
        rule('reads', '{ resources: ["read_*"] }', 'allow') +
        rule('secrets', '{ resources: [read_secret, bash] }'),
    );
    expect(findings.map((finding) => finding.message)).toEqual([
      'deny rule "secrets" does not decide some actions it matches: allow rule "reads" comes first and takes all of them that no earlier rule (deny rule "no-traversal") takes, e.g. for tool "read_secret"',
    ]);
  });

  it('names the agent and server of the example when the rules restrict them', () => {
    const findings = lint(
      rule('bots', '{ agent_ids: ["bot-*"], servers: [fs] }', 'allow') +
        rule('deny-rm', '{ resources: [rm, ls], agent_ids: ["bot-1"] }'),
    );
    expect(findings.map((finding) => [finding.message, finding.example])).toEqual([
      [
        'deny rule "deny-rm" does not decide some actions it matches: allow rule "bots" comes first and allows them, e.g. for tool "rm" by agent "bot-1" on server "fs"',
        { actionType: 'tool_call', resource: 'rm', agentId: 'bot-1', server: 'fs' },
      ],
    ]);
  });
});

describe('lintPolicy: other findings', () => {
  it('unknown-tool: a rule naming none of the tools, and an exact name close to a tool', () => {
    const findings = lint(
      rule('typo', '{ resources: [wirte_file] }') +
        rule('none', '{ resources: ["db_*", "sql"] }') +
        // rename_file is too far from read_file to be a typo of it.
        rule('some', '{ resources: [read_file, raed_file, list_things, rename_file] }', 'allow') +
        rule('prompts', '{ action_types: [prompt_get], resources: [greeting] }', 'allow'),
      { tools: ['read_file', 'write_file'] },
    );
    expect(
      findings.map((finding) => [finding.code, finding.path.join('.'), finding.message]),
    ).toEqual([
      [
        'unknown-tool',
        'rules.0.match_on.resources',
        'rule "typo" matches none of the server\'s 2 tools: "wirte_file" (did you mean "write_file"?)',
      ],
      [
        'unknown-tool',
        'rules.1.match_on.resources',
        'rule "none" matches none of the server\'s 2 tools: "db_*", "sql"',
      ],
      [
        'unknown-tool',
        'rules.2.match_on.resources.1',
        'rule "some" names "raed_file", which is not a tool of the server (did you mean "read_file"?)',
      ],
    ]);
    expect(lint(rule('typo', '{ resources: [wirte_file] }'))).toEqual([]);
  });

  it("unknown-tool: only for the policy's own rules", () => {
    const base = `name: base\nversion: "1"\nrules:\n${rule('deny-bash', '{ resources: [bash] }')}`;
    const yaml = 'name: p\nversion: "1"\nextends: base.yaml\nrules: []\n';
    const policy = resolved(yaml, memoryLoader({ 'base.yaml': base }), 'p.yaml');
    expect(lintPolicy(policy, { tools: ['read_file'] })).toEqual([]);
  });

  it('empty-reason, default-allow and untested-policy', () => {
    const findings = lint(
      rule('quiet', '{ resources: [bash] }').replace('reason: r', 'reason: " "'),
      { tested: false },
      'default_outcome: allow\n',
    );
    expect(findings.map((finding) => formatLintFinding(finding))).toEqual([
      'p.yaml:1:1: warning: untested-policy: no test file names this policy: add a NAME.test.yaml beside it with `policy: p.yaml`',
      'p.yaml:3:18: warning: default-allow: default_outcome: allow lets through every action no rule matches (fail-open): allow what may pass with rules and leave the rest denied',
      'p.yaml:7:35: warning: empty-reason: deny rule "quiet" has an empty reason: say what was refused and why, for the agent to relay',
    ]);
    expect(lint(rule('a', '{}'), { tested: true }, 'default_outcome: deny\n')).toEqual([]);
  });
});

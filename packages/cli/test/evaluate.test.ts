import { describe, expect, it } from 'vitest';
import { kvlar, POLICY, tempDir } from './helpers.js';

async function evaluate(args: readonly string[], policy = POLICY) {
  const dir = await tempDir({ 'p.yaml': policy });
  return kvlar(['evaluate', '-p', 'p.yaml', ...args], { cwd: dir });
}

describe('kvlar evaluate', () => {
  it('prints an allow as the Rust CLI did', async () => {
    const result = await evaluate(['--resource', 'read_file']);
    expect(result).toEqual({ code: 0, stdout: '✓ ALLOW (rule: allow-read)\n', stderr: '' });
  });

  it('prints a deny with its reason and still exits 0', async () => {
    const result = await evaluate(['--resource', 'bash']);
    expect(result).toEqual({
      code: 0,
      stdout: '✗ DENY (rule: deny-shell)\n  Reason: shell is not allowed\n',
      stderr: '',
    });
  });

  it('prints require_approval with its reason when the arguments match', async () => {
    const result = await evaluate(['--resource', 'write_file', '--args', '{"path":"/etc/hosts"}']);
    expect(result.stdout).toBe(
      '⚠ REQUIRE APPROVAL (rule: approve-write)\n  Reason: writes under /etc need a human\n',
    );
    expect(result.code).toBe(0);
  });

  it('denies by default when no rule matches, the arguments included', async () => {
    const result = await evaluate(['--resource', 'write_file', '--args', '{"path":"/tmp/x"}']);
    expect(result.stdout).toBe(
      '✗ DENY (rule: _default_deny)\n  Reason: no matching policy rule — denied by default (fail-closed)\n',
    );
  });

  it('uses tool_call and cli-test as the default action type and agent id', async () => {
    const policy = `name: defaults
version: "1"
rules:
  - id: only-defaults
    match_on: { action_types: [tool_call], agent_ids: [cli-test] }
    effect: { type: allow }
`;
    expect((await evaluate(['--resource', 'x'], policy)).stdout).toBe(
      '✓ ALLOW (rule: only-defaults)\n',
    );
    const other = await evaluate(
      ['--resource', 'x', '--agent-id', 'bot', '--action-type', 'tool_call'],
      policy,
    );
    expect(other.stdout).toContain('_default_deny');
  });

  it('passes --server to rules that name servers', async () => {
    const policy = `name: servers
version: "1"
rules:
  - id: github-only
    match_on: { servers: [github] }
    effect: { type: allow }
`;
    expect((await evaluate(['--resource', 'x', '--server', 'github'], policy)).stdout).toBe(
      '✓ ALLOW (rule: github-only)\n',
    );
    expect((await evaluate(['--resource', 'x'], policy)).stdout).toContain('_default_deny');
  });

  it('prints --json with decision, rule_id, reason and policy', async () => {
    const deny = await evaluate(['--resource', 'bash', '--json']);
    expect(deny.stdout).toBe(
      `${JSON.stringify(
        {
          decision: 'deny',
          rule_id: 'deny-shell',
          reason: 'shell is not allowed',
          policy: 'my-policy',
        },
        null,
        2,
      )}\n`,
    );
    const fallback = await evaluate(['--resource', 'nothing', '--json']);
    expect(JSON.parse(fallback.stdout)).toEqual({
      decision: 'deny',
      rule_id: '_default_deny',
      reason: 'no matching policy rule — denied by default (fail-closed)',
      policy: null,
    });
    const allow = await evaluate(['--resource', 'read_x', '--json']);
    expect(JSON.parse(allow.stdout)).toMatchObject({ decision: 'allow', reason: null });
  });

  it('adds the trace of every rule considered with --json --explain', async () => {
    const result = await evaluate(['--resource', 'bash', '--json', '--explain']);
    expect(JSON.parse(result.stdout)).toEqual({
      decision: 'deny',
      rule_id: 'deny-shell',
      reason: 'shell is not allowed',
      policy: 'my-policy',
      trace: [
        {
          rule_id: 'allow-read',
          policy: 'my-policy',
          matched: false,
          checks: ['resources [read_*] does not match "bash"'],
        },
        {
          rule_id: 'deny-shell',
          policy: 'my-policy',
          matched: true,
          checks: ['resources [bash] matches "bash"'],
        },
      ],
    });
  });

  it('denies a dotted field the arguments give two values, before any rule, with --explain', async () => {
    const policy = `name: dotted
version: "1"
rules:
  - id: allow-safe-writes
    match_on:
      resources: [write_file]
      conditions: [{ field: target.path, operator: path_under, value: /safe }]
    effect: { type: allow }
`;
    const twoWays = '{"target.path":"/safe/x","target":{"path":"/etc/passwd"}}';
    const result = await evaluate(
      ['--resource', 'write_file', '--args', twoWays, '--explain'],
      policy,
    );
    expect(result.stdout).toBe(
      [
        '✗ DENY (rule: _ambiguous_field)',
        '  Reason: denied: the arguments give "target.path" two different values, as a key of that name and nested (target → path); the server could act on either',
        '',
        'Rules considered (0):',
        '  none: the engine decided before any rule (_ambiguous_field)',
        '',
      ].join('\n'),
    );
    const oneWay = await evaluate(
      ['--resource', 'write_file', '--args', '{"target":{"path":"/safe/x"}}'],
      policy,
    );
    expect(oneWay.stdout).toBe('✓ ALLOW (rule: allow-safe-writes)\n');
  });

  it('prints each rule considered and its checks with --explain', async () => {
    const result = await evaluate(['--resource', 'write_file', '--explain']);
    expect(result.stdout).toBe(
      [
        '✗ DENY (rule: _default_deny)',
        '  Reason: no matching policy rule — denied by default (fail-closed)',
        '',
        'Rules considered (3):',
        '  · allow-read (policy: my-policy)',
        '      resources [read_*] does not match "write_file"',
        '  · deny-shell (policy: my-policy)',
        '      resources [bash] does not match "write_file"',
        '  · approve-write (policy: my-policy)',
        '      resources [write_file] matches "write_file"',
        '      parameters.path ~ /^/etc//: false',
        '  no rule matched: denied by default',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['an array', '[1, 2]'],
    ['null', 'null'],
    ['a string', '"path"'],
  ])('rejects --args that is %s with exit 1', async (_kind, args) => {
    const result = await evaluate(['--resource', 'bash', '--args', args]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: --args must be a JSON object/);
  });

  it('rejects --args that is not JSON with exit 1', async () => {
    const result = await evaluate(['--resource', 'bash', '--args', '{path: 1}']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: --args is not valid JSON: /);
  });

  it('keeps an argument named __proto__ as an ordinary argument', async () => {
    const policy = `name: proto
version: "1"
rules:
  - id: proto
    match_on: { parameters: { __proto__: "^x$" } }
    effect: { type: deny, reason: proto }
  - id: rest
    match_on: {}
    effect: { type: allow }
`;
    const hit = await evaluate(['--resource', 't', '--args', '{"__proto__": "x"}'], policy);
    expect(hit.stdout).toContain('(rule: proto)');
    const miss = await evaluate(['--resource', 't', '--args', '{}'], policy);
    expect(miss.stdout).toContain('(rule: rest)');
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kvlar, lines, POLICY, REPO_POLICIES, tempDir } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/lint/', import.meta.url));
const EVERYTHING = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/** What `fixtures/lint/policy.yaml` gets with `--tools` naming read_file and write_file. */
const FIXTURE_FINDINGS = [
  'policy.yaml:8:5: warning: allow-hides-deny: deny rule "deny-secrets" does not decide some actions it matches: allow rule "allow-reads" comes first and allows them, e.g. for tool "read_secret"',
  'policy.yaml:10:28: warning: unknown-tool: rule "deny-secrets" matches none of the server\'s 2 tools: "read_secret", "bash"',
  'policy.yaml:12:5: error: shadowed-rule: deny rule "deny-read-file" can never decide: allow rule "allow-reads" comes first and matches every action it matches',
  'policy.yaml:17:29: warning: unknown-tool: rule "approve-writes" names "wirte_file", which is not a tool of the server (did you mean "write_file"?)',
  '✗ 1 error, 3 warnings in 1 policy',
];

const SHADOWED = `name: shadowed
version: "1"
rules:
  - id: allow-all
    match_on: {}
    effect: { type: allow }
  - id: deny-bash
    match_on: { resources: [bash] }
    effect: { type: deny, reason: no shell }
`;

const HIDDEN = `name: hidden
version: "1"
rules:
  - id: allow-reads
    match_on: { resources: ["read_*"] }
    effect: { type: allow }
  - id: deny-secrets
    match_on: { resources: [read_secret, bash] }
    effect: { type: deny, reason: secrets stay secret }
`;

const TESTS_FOR = (policy: string) => `policy: ${policy}\ntests: []\n`;

describe('kvlar lint', () => {
  it('finds no errors in any shipped template', async () => {
    const result = await kvlar(['lint', '-p', REPO_POLICIES, '--json'], { cwd: REPO_POLICIES });
    const report = JSON.parse(result.stdout) as {
      files: { file: string; valid: boolean; findings: { code: string; severity: string }[] }[];
      errors: number;
    };
    expect(report.files.length).toBeGreaterThanOrEqual(13);
    const errors = report.files.flatMap((file) =>
      file.findings.filter((f) => f.severity === 'error').map((f) => `${file.file}: ${f.code}`),
    );
    expect(errors).toEqual([]);
    expect(report.files.every((file) => file.valid)).toBe(true);
    expect(report.errors).toBe(0);
    expect(result.code).toBe(0);
  });

  it('says so, on stdout, when there is nothing to report', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'p.test.yaml': TESTS_FOR('p.yaml') });
    const result = await kvlar(['lint', '-p', 'p.yaml'], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: '✓ No problems found in 1 policy\n', stderr: '' });
  });

  it('reports a shadowed rule as an error at its position and exits 1', async () => {
    const dir = await tempDir({ 'p.yaml': SHADOWED, 'p.test.yaml': TESTS_FOR('p.yaml') });
    const result = await kvlar(['lint', '-p', 'p.yaml'], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'p.yaml:7:5: error: shadowed-rule: deny rule "deny-bash" can never decide: allow rule "allow-all" comes first and matches every action it matches\n' +
        '✗ 1 error, 0 warnings in 1 policy\n',
    });
  });

  it('exits 0 with warnings only, and 1 with --strict', async () => {
    const dir = await tempDir({ 'p.yaml': HIDDEN, 'p.test.yaml': TESTS_FOR('p.yaml') });
    const warning =
      'p.yaml:7:5: warning: allow-hides-deny: deny rule "deny-secrets" does not decide some actions it matches: allow rule "allow-reads" comes first and allows them, e.g. for tool "read_secret"\n';
    expect(await kvlar(['lint', '-p', 'p.yaml'], { cwd: dir })).toEqual({
      code: 0,
      stdout: '⚠ 0 errors, 1 warning in 1 policy\n',
      stderr: warning,
    });
    expect(await kvlar(['lint', '-p', 'p.yaml', '--strict'], { cwd: dir })).toEqual({
      code: 1,
      stdout: '',
      stderr: `${warning}✗ 0 errors, 1 warning in 1 policy\n`,
    });
  });

  it('prints --json with every file, its findings and the counts', async () => {
    const dir = await tempDir({ 'p.yaml': HIDDEN, 'p.test.yaml': TESTS_FOR('p.yaml') });
    const result = await kvlar(['lint', '-p', '.', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      files: [
        {
          file: 'p.yaml',
          valid: true,
          issues: [],
          findings: [
            {
              code: 'allow-hides-deny',
              severity: 'warning',
              message:
                'deny rule "deny-secrets" does not decide some actions it matches: allow rule "allow-reads" comes first and allows them, e.g. for tool "read_secret"',
              ruleId: 'deny-secrets',
              otherRuleId: 'allow-reads',
              example: { actionType: 'tool_call', resource: 'read_secret', agentId: 'test-agent' },
              file: 'p.yaml',
              line: 7,
              column: 5,
              path: ['rules', 1],
            },
          ],
        },
      ],
      errors: 0,
      warnings: 1,
    });
  });

  it('reports an invalid policy like validate, counts it, and exits 1', async () => {
    const dir = await tempDir({ 'bad.yaml': 'name: b\nversion: "1"\nrulez: []\n' });
    const result = await kvlar(['lint', '-p', 'bad.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      'bad.yaml:1:1: error: missing required key "rules"',
      'bad.yaml:3:1: error: rulez: unknown key "rulez" (did you mean "rules"?)',
      '✗ 2 errors, 0 warnings in 1 policy (1 invalid)',
    ]);
    const json = await kvlar(['lint', '-p', 'bad.yaml', '--json'], { cwd: dir });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      files: [{ file: 'bad.yaml', valid: false, findings: [] }],
      errors: 2,
      warnings: 0,
    });
  });

  it('warns about each policy of a directory that no test file beside it names', async () => {
    const dir = await tempDir({
      'a.yaml': POLICY,
      'a.test.yaml': TESTS_FOR('a.yaml'),
      'b.yaml': POLICY.replace('my-policy', 'b'),
      'c.yaml': POLICY.replace('my-policy', 'c'),
      'c.test.yaml': TESTS_FOR('other/c.yaml'),
      'broken.test.yaml': 'policy: [b.yaml',
    });
    const result = await kvlar(['lint', '-p', '.'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toEqual([
      'b.yaml:1:1: warning: untested-policy: no test file names this policy: add a NAME.test.yaml beside it with `policy: b.yaml`',
      'c.yaml:1:1: warning: untested-policy: no test file names this policy: add a NAME.test.yaml beside it with `policy: c.yaml`',
    ]);
    expect(result.stdout).toBe('⚠ 0 errors, 2 warnings in 3 policies\n');
  });

  it('reads the tools from --tools FILE: names, tool objects or a tools/list result', async () => {
    for (const file of ['tools-names.json', 'tools-objects.json', 'tools-list-result.json']) {
      const result = await kvlar(['lint', '-p', 'policy.yaml', '--tools', file], {
        cwd: FIXTURES,
      });
      expect({ file, code: result.code, stderr: lines(result.stderr) }).toEqual({
        file,
        code: 1,
        stderr: FIXTURE_FINDINGS,
      });
    }
  });

  it('refuses a --tools file it cannot read as tools', async () => {
    const dir = await tempDir({
      'p.yaml': POLICY,
      'text.json': 'read_file',
      'object.json': '{"tool": []}',
      'numbers.json': '[1]',
    });
    const run = (file: string) => kvlar(['lint', '-p', 'p.yaml', '--tools', file], { cwd: dir });
    expect(await run('missing.json')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --tools missing.json: no such file or directory\n',
    });
    expect((await run('text.json')).stderr).toMatch(/^error: --tools text\.json: not JSON: /);
    expect((await run('object.json')).stderr).toBe(
      'error: --tools object.json: expected a list of tool names, a list of tools, or a tools/list result {"tools": […]}\n',
    );
    expect((await run('numbers.json')).stderr).toBe(
      'error: --tools numbers.json: entry 0 is not a tool name or a tool with a string "name"\n',
    );
  });

  it('lists the tools of a live server given after --', async () => {
    const dir = await tempDir({
      'p.yaml': `name: everything
version: "1"
rules:
  - id: allow-echo
    match_on: { resources: [echo, ecoh] }
    effect: { type: allow }
  - id: deny-shell
    match_on: { resources: [bash] }
    effect: { type: deny, reason: no shell }
`,
      'p.test.yaml': TESTS_FOR('p.yaml'),
    });
    const result = await kvlar(
      ['lint', '-p', 'p.yaml', '--', process.execPath, EVERYTHING, 'stdio'],
      {
        cwd: dir,
      },
    );
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toEqual([
      'p.yaml:5:35: warning: unknown-tool: rule "allow-echo" names "ecoh", which is not a tool of the server (did you mean "echo"?)',
      expect.stringMatching(
        /^p\.yaml:8:28: warning: unknown-tool: rule "deny-shell" matches none of the server's \d+ tools: "bash"$/,
      ),
    ]);
    expect(result.stdout).toBe('⚠ 0 errors, 2 warnings in 1 policy\n');
  });

  it('fails clearly when the server cannot start, dies, or does not answer in time', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY });
    const lint = (...server: string[]) => kvlar(['lint', '-p', 'p.yaml', ...server], { cwd: dir });
    expect(await lint('--', '/nonexistent/mcp-server')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: cannot list the tools of `/nonexistent/mcp-server`: spawn /nonexistent/mcp-server ENOENT\n',
    });
    const died = await lint(
      '--',
      process.execPath,
      '-e',
      'console.error("no API key"); process.exit(3)',
    );
    expect(died.code).toBe(1);
    expect(died.stderr).toMatch(/^error: cannot list the tools of `.*`: .*Connection closed\n/);
    expect(died.stderr).toContain("the server's stderr ended with: no API key");
    const silent = await lint(
      '--timeout',
      '1',
      '--',
      process.execPath,
      `${FIXTURES}silent-server.mjs`,
    );
    expect(silent.code).toBe(1);
    expect(silent.stderr).toMatch(
      /^error: cannot list the tools of `.*`: no answer within 1 second\n$/,
    );
  });

  it('rejects contradictory or malformed flags as usage errors', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 't.json': '[]' });
    const usage = async (...args: string[]) => {
      const result = await kvlar(['lint', '-p', 'p.yaml', ...args], { cwd: dir });
      expect(result.code).toBe(2);
      return lines(result.stderr)[0];
    };
    expect(await usage('--tools', 't.json', '--', 'server')).toBe(
      'error: give the tools either as --tools FILE or as a server after --, not both',
    );
    expect(await usage('--timeout', '5')).toBe(
      'error: --timeout applies to a server given after --',
    );
    expect(await usage('--timeout', 'soon', '--', 'server')).toBe(
      "error: --timeout must be a number of seconds between 0 and 3600, not 'soon'",
    );
    expect(await usage('--')).toBe('error: no server command after --');
    expect(await usage('--tool', 't.json')).toMatch(/^error: unknown flag '--tool'/);
  });
});

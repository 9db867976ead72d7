import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { kvlar, lines, POLICY, tempDir } from './helpers.js';

const PASSING = `policy: p.yaml
tests:
  - id: read-ok
    action: { resource: read_file }
    expect: allow
  - id: bash-denied
    action: { resource: bash }
    expect: deny
    rule: deny-shell
    reason_contains: shell
`;

const FAILING = `policy: p.yaml
tests:
  - id: read-ok
    action: { resource: read_file }
    expect: allow
  - id: bash-allowed
    action: { resource: bash }
    expect: allow
    rule: allow-read
`;

describe('kvlar test on one file', () => {
  it('prints the Rust summary and exits 0 when every test passes', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'p.test.yaml': PASSING });
    const result = await kvlar(['test', '-f', 'p.test.yaml'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: 'Running 2 tests from p.test.yaml...\n\n\n✓ 2/2 tests passed.\n',
      stderr: '',
    });
  });

  it('lists failures with each reason and exits 1', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'p.test.yaml': FAILING });
    const result = await kvlar(['test', '-f', 'p.test.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        'Running 2 tests from p.test.yaml...',
        '',
        '  ✗ bash-allowed',
        "    → expected decision 'allow', got 'deny'",
        "    → expected rule 'allow-read', got 'deny-shell'",
        '',
        '✗ 1/2 tests failed.',
        '',
      ].join('\n'),
    );
  });

  it('lists passing tests with their decision with -v', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'p.test.yaml': FAILING });
    const result = await kvlar(['test', '-f', 'p.test.yaml', '-v'], { cwd: dir });
    expect(result.stdout).toContain('  ✓ read-ok (allow)\n  ✗ bash-allowed\n');
  });

  it('prints --json in exactly the Rust shape', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'p.test.yaml': FAILING });
    const result = await kvlar(['test', '-f', 'p.test.yaml', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const expected = {
      results: [
        {
          id: 'read-ok',
          passed: true,
          actual_decision: 'allow',
          actual_rule: 'allow-read',
          actual_reason: null,
          failures: [],
        },
        {
          id: 'bash-allowed',
          passed: false,
          actual_decision: 'deny',
          actual_rule: 'deny-shell',
          actual_reason: 'shell is not allowed',
          failures: [
            "expected decision 'allow', got 'deny'",
            "expected rule 'allow-read', got 'deny-shell'",
          ],
        },
      ],
      total: 2,
      passed: 1,
      failed: 1,
    };
    expect(result.stdout).toBe(`${JSON.stringify(expected, null, 2)}\n`);
  });

  it('finds the policy relative to the test file, not the working directory', async () => {
    const dir = await tempDir({ 'suite/p.yaml': POLICY, 'suite/p.test.yaml': PASSING });
    const result = await kvlar(['test', '-f', 'suite/p.test.yaml'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Running 2 tests from suite/p.test.yaml...');
  });

  it('tests the policy given with -p, relative to the working directory, instead', async () => {
    const strict = `name: strict\nversion: "1"\nrules:\n  - id: no\n    match_on: {}\n    effect: { type: deny, reason: no }\n`;
    const dir = await tempDir({
      'suite/p.yaml': POLICY,
      'suite/p.test.yaml': PASSING,
      'other/strict.yaml': strict,
    });
    const result = await kvlar(['test', '-f', 'suite/p.test.yaml', '-p', 'other/strict.yaml'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("  ✗ read-ok\n    → expected decision 'allow', got 'deny'\n");
  });

  it('points at the policy: line when the policy it names does not exist', async () => {
    const dir = await tempDir({ 't.test.yaml': 'tests: []\npolicy: nope.yaml\n' });
    const result = await kvlar(['test', '-f', 't.test.yaml'], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        't.test.yaml:2:9: error: policy: policy "nope.yaml" not found (looked for nope.yaml)\n',
    });
  });

  it('explains that a test file without policy: needs -p', async () => {
    const dir = await tempDir({ 't.test.yaml': 'tests: []\n' });
    const result = await kvlar(['test', '-f', 't.test.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('names no policy: add `policy: FILE` or pass -p FILE');
  });
});

/** The runner's output with its one varying part, the duration, fixed. */
function steady(stdout: string): string {
  return stdout.replace(/^Duration {4}\S+ m?s$/m, 'Duration    X');
}

describe('kvlar test on a directory', () => {
  const files = {
    'p.yaml': POLICY,
    'b.test.yaml': PASSING,
    'nested/a.test.yml': FAILING.replace('policy: p.yaml', 'policy: ../p.yaml'),
    'nested/p.yaml': 'not: [a test file, and not run',
    '.hidden/x.test.yaml': 'not: [run either',
  };

  it('runs every test file recursively, sorted, one line each, failures in full, then the totals', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(steady(result.stdout)).toBe(
      [
        '✓ b.test.yaml (2 tests)',
        '✗ nested/a.test.yml (2 tests, 1 failed)',
        '  ✗ bash-allowed',
        "    → expected decision 'allow', got 'deny'",
        "    → expected rule 'allow-read', got 'deny-shell'",
        "    actual: deny by rule 'deny-shell': shell is not allowed",
        '',
        'Test files  1 failed, 1 passed (2)',
        'Tests       1 failed, 3 passed (4)',
        'Duration    X',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
  });

  it('lists the passing tests under their file with -v', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', '.', '-v'], { cwd: dir });
    expect(result.stdout).toContain(
      [
        '✓ b.test.yaml (2 tests)',
        '  ✓ read-ok (allow)',
        '  ✓ bash-denied (deny)',
        '✗ nested/a.test.yml (2 tests, 1 failed)',
        '  ✓ read-ok (allow)',
        '  ✗ bash-allowed',
      ].join('\n'),
    );
  });

  it('prints --json per file with the policy each one tested, and the totals', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', '.', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout);
    expect(Object.keys(parsed)).toEqual(['files', 'total', 'passed', 'failed']);
    expect(parsed).toMatchObject({ total: 4, passed: 3, failed: 1 });
    expect(
      parsed.files.map((file: Record<string, unknown>) => [
        file.file,
        file.policy,
        file.total,
        file.passed,
        file.failed,
      ]),
    ).toEqual([
      ['b.test.yaml', 'p.yaml', 2, 2, 0],
      ['nested/a.test.yml', 'p.yaml', 2, 1, 1],
    ]);
    expect(Object.keys(parsed.files[0])).toEqual([
      'file',
      'policy',
      'results',
      'total',
      'passed',
      'failed',
    ]);
  });

  it('runs the other files, lists the broken one, and exits 1 when one test file is invalid', async () => {
    const dir = await tempDir({ ...files, 'c.test.yaml': 'policy: p.yaml\ntestz: []\n' });
    const result = await kvlar(['test', '-f', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(lines(result.stdout).slice(0, 3)).toEqual([
      '✓ b.test.yaml (2 tests)',
      '✗ c.test.yaml (could not be run)',
      '✗ nested/a.test.yml (2 tests, 1 failed)',
    ]);
    expect(result.stdout).toContain('Test files  1 failed, 1 could not be run, 1 passed (3)\n');
    expect(result.stderr).toContain('c.test.yaml:2:1: error: testz: unknown key "testz"');
    expect(result.stderr).toContain('✗ 1 of 3 test files could not be run');
  });

  it('exits 0 when every test in every file passes', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'a.test.yaml': PASSING, 'b.test.yaml': PASSING });
    const result = await kvlar(['test', '-f', dir], { cwd: dir });
    expect(result.code).toBe(0);
    expect(steady(result.stdout)).toBe(
      [
        '✓ a.test.yaml (2 tests)',
        '✓ b.test.yaml (2 tests)',
        '',
        'Test files  2 passed (2)',
        'Tests       4 passed (4)',
        'Duration    X',
        '',
      ].join('\n'),
    );
  });

  it('warns and exits 1 when the directory holds no test files', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY });
    const result = await kvlar(['test', '-f', '.'], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: '⚠ No .test.yaml or .test.yml files found in .\n',
    });
  });
});

describe('kvlar test on several paths', () => {
  const files = {
    'p.yaml': POLICY,
    'a.test.yaml': PASSING,
    'b.test.yaml': FAILING,
    'suite/c.test.yaml': PASSING.replace('policy: p.yaml', 'policy: ../p.yaml'),
    'suite/d.test.yaml': PASSING.replace('policy: p.yaml', 'policy: ../p.yaml'),
  };

  it('runs the files given as arguments, in the order given', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', 'b.test.yaml', 'a.test.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(lines(result.stdout).filter((line) => /^[✓✗] /.test(line))).toEqual([
      '✗ b.test.yaml (2 tests, 1 failed)',
      '✓ a.test.yaml (2 tests)',
    ]);
    expect(result.stdout).toContain('Tests       1 failed, 3 passed (4)\n');
  });

  it('takes -f several times, mixed with arguments and directories, each file once', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(
      ['test', '-f', 'a.test.yaml', 'suite', '--file=suite/d.test.yaml', 'a.test.yaml'],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((line) => line.startsWith('✓ '))).toEqual([
      '✓ a.test.yaml (2 tests)',
      '✓ suite/c.test.yaml (2 tests)',
      '✓ suite/d.test.yaml (2 tests)',
    ]);
    expect(result.stdout).toContain('Test files  3 passed (3)\n');
  });

  it('runs one test file given as an argument exactly as -f does', async () => {
    const dir = await tempDir(files);
    const positional = await kvlar(['test', 'b.test.yaml'], { cwd: dir });
    const flag = await kvlar(['test', '-f', 'b.test.yaml'], { cwd: dir });
    expect(positional).toEqual(flag);
    expect(positional.stdout.startsWith('Running 2 tests from b.test.yaml...\n')).toBe(true);
  });

  it('prints --json with every file when given several', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', 'a.test.yaml', 'suite/c.test.yaml', '--json'], {
      cwd: dir,
    });
    const parsed = JSON.parse(result.stdout);
    expect(parsed.files.map((file: { file: string }) => file.file)).toEqual([
      'a.test.yaml',
      'suite/c.test.yaml',
    ]);
    expect(parsed).toMatchObject({ total: 4, passed: 4, failed: 0 });
  });

  it('runs the other paths but exits 1 when a directory given holds no test files', async () => {
    const dir = await tempDir({ ...files, 'empty/readme.txt': 'nothing here\n' });
    const result = await kvlar(['test', 'a.test.yaml', 'empty'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('⚠ No .test.yaml or .test.yml files found in empty\n');
    expect(result.stdout).toContain('✓ a.test.yaml (2 tests)\n');
  });

  it('is a usage error to give no test file at all', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '--json'], { cwd: dir });
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "error: missing test files: give FILE|DIR arguments or -f FILE|DIR\nRun 'kvlar test --help' for usage.\n",
    });
  });
});

describe('kvlar test --coverage', () => {
  const BASE = `name: base
version: "1"
rules:
  - id: allow-list
    match_on: { resources: [list_files] }
    effect: { type: allow }
  - id: deny-delete
    match_on: { resources: [delete_file] }
    effect: { type: deny, reason: no deletes }
`;
  const TEAM = `name: team
version: "1"
extends: [./base.yaml]
rules:
  - id: deny-shell
    match_on: { resources: [bash] }
    effect: { type: deny, reason: no shell }
  - id: allow-read
    match_on: { resources: [read_file] }
    effect: { type: allow }
  # The same id as in base.yaml, deciding nothing: coverage must not credit one for the other.
  - id: allow-list
    match_on: { resources: [list_files], agent_ids: [admin] }
    effect: { type: allow }
`;
  const TEAM_TESTS = `policy: team.yaml
tests:
  - id: bash
    action: { resource: bash }
    expect: deny
  - id: list
    action: { resource: list_files }
    expect: allow
  - id: unknown
    action: { resource: unknown_tool }
    expect: deny
`;
  const files = { 'base.yaml': BASE, 'team.yaml': TEAM, 'team.test.yaml': TEAM_TESTS };

  it('adds the rules no test decided to the Rust output of one file, extended ones marked', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', 'team.test.yaml', '--coverage'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: [
        'Running 3 tests from team.test.yaml...',
        '',
        '',
        '✓ 3/3 tests passed.',
        '',
        'Rule coverage:',
        '  team.yaml: 2/5 rules (40%); not covered:',
        '    · allow-read',
        '    · allow-list',
        '    · deny-delete (from base.yaml)',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('sums the tests of every file that tests the same policy', async () => {
    const more = `policy: team.yaml
tests:
  - id: read
    action: { resource: read_file }
    expect: allow
  - id: delete
    action: { resource: delete_file }
    expect: deny
`;
    const dir = await tempDir({ ...files, 'more.test.yaml': more });
    const result = await kvlar(['test', '.', '--coverage'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(steady(result.stdout)).toBe(
      [
        '✓ more.test.yaml (2 tests)',
        '✓ team.test.yaml (3 tests)',
        '',
        'Rule coverage:',
        '  team.yaml: 4/5 rules (80%); not covered:',
        '    · allow-list',
        '',
        'Test files  2 passed (2)',
        'Tests       5 passed (5)',
        'Coverage    4/5 rules (80%)',
        'Duration    X',
        '',
      ].join('\n'),
    );
  });

  it('marks the rules of an extended built-in template with where they come from', async () => {
    const dir = await tempDir({
      'mine.yaml': 'name: mine\nversion: "1"\nextends: [strict]\nrules: []\n',
      'mine.test.yaml':
        'policy: mine.yaml\ntests:\n  - id: x\n    action: { resource: nothing_known }\n    expect: deny\n',
    });
    const result = await kvlar(['test', '-f', 'mine.test.yaml', '--coverage'], { cwd: dir });
    expect(result.code).toBe(0);
    const listed = lines(result.stdout).filter((line) => line.startsWith('    · '));
    expect(listed.length).toBeGreaterThan(3);
    for (const line of listed) expect(line).toMatch(/ \(from builtin:strict\)$/);
  });

  it('passes when each policy meets --coverage-min', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', 'team.test.yaml', '--coverage-min', '40'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ Every policy has at least 40% of its rules covered.\n');
  });

  it('fails when a policy is below --coverage-min, though every test passes', async () => {
    const dir = await tempDir({ ...files, 'p.yaml': POLICY, 'p.test.yaml': PASSING });
    const result = await kvlar(['test', '.', '--coverage-min=50%'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(steady(result.stdout)).toContain(
      [
        'Rule coverage:',
        '  p.yaml: 2/3 rules (66.6%); not covered:',
        '    · approve-write',
        '  team.yaml: 2/5 rules (40%), below --coverage-min 50%; not covered:',
        '    · allow-read',
        '    · allow-list',
        '    · deny-delete (from base.yaml)',
        '✗ Coverage below --coverage-min 50%: team.yaml',
        '',
        'Test files  2 passed (2)',
        'Tests       5 passed (5)',
        'Coverage    4/8 rules (50%)',
      ].join('\n'),
    );
  });

  it.each(['abc', '101', '-5', '1e2'])(
    'refuses --coverage-min=%s as a usage error',
    async (value) => {
      const dir = await tempDir(files);
      const result = await kvlar(['test', '-f', 'team.test.yaml', `--coverage-min=${value}`], {
        cwd: dir,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `error: --coverage-min must be a percentage from 0 to 100 (like 80), not '${value}'`,
      );
    },
  );

  it('adds coverage to the Rust --json of one file, after its keys', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', 'team.test.yaml', '--json', '--coverage'], {
      cwd: dir,
    });
    const parsed = JSON.parse(result.stdout);
    expect(Object.keys(parsed)).toEqual(['results', 'total', 'passed', 'failed', 'coverage']);
    expect(parsed.coverage).toEqual({
      policies: [
        {
          file: 'team.yaml',
          rules: [
            { id: 'deny-shell', policy: 'team', file: 'team.yaml', tests: 1 },
            { id: 'allow-read', policy: 'team', file: 'team.yaml', tests: 0 },
            { id: 'allow-list', policy: 'team', file: 'team.yaml', tests: 0 },
            { id: 'allow-list', policy: 'base', file: 'base.yaml', tests: 1 },
            { id: 'deny-delete', policy: 'base', file: 'base.yaml', tests: 0 },
          ],
          total: 5,
          covered: 2,
          percent: 40,
        },
      ],
      total: 5,
      covered: 2,
      percent: 40,
      min: null,
      met: true,
    });
  });

  it('adds coverage to the --json of several files, with the minimum and whether it was met', async () => {
    const dir = await tempDir({ ...files, 'p.yaml': POLICY, 'p.test.yaml': PASSING });
    const result = await kvlar(['test', '.', '--json', '--coverage-min', '60'], { cwd: dir });
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout);
    expect(Object.keys(parsed)).toEqual(['files', 'total', 'passed', 'failed', 'coverage']);
    expect(parsed.coverage).toMatchObject({
      total: 8,
      covered: 4,
      percent: 50,
      min: 60,
      met: false,
    });
    expect(
      parsed.coverage.policies.map((policy: Record<string, unknown>) => [
        policy.file,
        policy.percent,
      ]),
    ).toEqual([
      ['p.yaml', 66.6],
      ['team.yaml', 40],
    ]);
  });

  it('counts a diamond-extended policy once', async () => {
    const dir = await tempDir({
      'base.yaml': BASE,
      'left.yaml': 'name: left\nversion: "1"\nextends: [./base.yaml]\nrules: []\n',
      'right.yaml': 'name: right\nversion: "1"\nextends: [./base.yaml]\nrules: []\n',
      'top.yaml': 'name: top\nversion: "1"\nextends: [./left.yaml, ./right.yaml]\nrules: []\n',
      'top.test.yaml':
        'policy: top.yaml\ntests:\n  - id: list\n    action: { resource: list_files }\n    expect: allow\n',
    });
    const result = await kvlar(['test', '-f', 'top.test.yaml', '--coverage'], { cwd: dir });
    expect(result.stdout).toContain(
      '  top.yaml: 1/2 rules (50%); not covered:\n    · deny-delete (from base.yaml)\n',
    );
  });
});

describe('kvlar test progress', () => {
  /** `kvlar test .` in-process, stderr a terminal or not; stdout is a pipe either way. */
  async function runIn(cwd: string, stderrIsTTY: boolean) {
    let stdout = '';
    let stderr = '';
    const code = await main(['test', '.'], {
      cwd,
      env: {},
      stdout: { isTTY: false, write: (text: string) => (stdout += text) },
      stderr: { isTTY: stderrIsTTY, write: (text: string) => (stderr += text) },
    });
    return { code, stdout, stderr };
  }

  async function manyFiles(count: number): Promise<string> {
    const files: Record<string, string> = { 'p.yaml': POLICY };
    for (let index = 0; index < count; index++) files[`t${index}.test.yaml`] = PASSING;
    return tempDir(files);
  }

  it('draws a progress line on a terminal while many files run, and erases it', async () => {
    const dir = await manyFiles(12);
    const result = await runIn(dir, true);
    expect(result.code).toBe(0);
    const draws = result.stderr.split('\r\u001b[2K').filter((part) => part !== '');
    expect(draws).toEqual(
      Array.from({ length: 12 }, (_, index) => `Running test files… ${index + 1}/12`),
    );
    expect(result.stderr.endsWith('\r\u001b[2K')).toBe(true);
    expect(result.stdout).toContain('Test files  12 passed (12)\n');
  });

  it('draws nothing when stderr is not a terminal', async () => {
    const dir = await manyFiles(12);
    const result = await runIn(dir, false);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it('draws nothing for a few files', async () => {
    const dir = await manyFiles(3);
    const result = await runIn(dir, true);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});

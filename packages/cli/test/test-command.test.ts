import { describe, expect, it } from 'vitest';
import { kvlar, POLICY, tempDir } from './helpers.js';

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

describe('kvlar test on a directory', () => {
  const files = {
    'p.yaml': POLICY,
    'b.test.yaml': PASSING,
    'nested/a.test.yml': FAILING.replace('policy: p.yaml', 'policy: ../p.yaml'),
    'nested/p.yaml': 'not: [a test file, and not run',
    '.hidden/x.test.yaml': 'not: [run either',
  };

  it('runs every test file recursively, sorted, then prints the overall summary', async () => {
    const dir = await tempDir(files);
    const result = await kvlar(['test', '-f', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        'Running 2 tests from b.test.yaml...',
        '',
        '',
        '✓ 2/2 tests passed.',
        '',
        'Running 2 tests from nested/a.test.yml...',
        '',
        '  ✗ bash-allowed',
        "    → expected decision 'allow', got 'deny'",
        "    → expected rule 'allow-read', got 'deny-shell'",
        '',
        '✗ 1/2 tests failed.',
        '',
        '✗ 1/4 tests failed.',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
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

  it('runs the other files and exits 1 when one test file is invalid', async () => {
    const dir = await tempDir({ ...files, 'c.test.yaml': 'policy: p.yaml\ntestz: []\n' });
    const result = await kvlar(['test', '-f', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Running 2 tests from b.test.yaml...');
    expect(result.stderr).toContain('c.test.yaml:2:1: error: testz: unknown key "testz"');
    expect(result.stderr).toContain('✗ 1 of 3 test files could not be run');
  });

  it('exits 0 when every test in every file passes', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY, 'a.test.yaml': PASSING, 'b.test.yaml': PASSING });
    const result = await kvlar(['test', '-f', dir], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('\n✓ 4/4 tests passed.\n')).toBe(true);
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

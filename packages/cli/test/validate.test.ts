import { describe, expect, it } from 'vitest';
import { kvlar, POLICY, tempDir } from './helpers.js';

const OTHER = 'name: other\nversion: "2"\nrules: []\n';

describe('kvlar validate', () => {
  it('prints the name, version and rule count of a valid policy file', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY });
    const result = await kvlar(['validate', '-p', 'p.yaml'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: "✓ Policy 'my-policy' is valid\n  Version: 1.0\n  Rules: 3\n",
      stderr: '',
    });
  });

  it('validates every .yaml and .yml policy directly in a directory, skipping test files', async () => {
    const dir = await tempDir({
      'b.yaml': POLICY,
      'a.yml': OTHER,
      'p.test.yaml': 'this is: [not a policy',
      'p.test.yml': 'neither: [is this',
      'notes.txt': 'ignored',
      'nested/deep.yaml': 'ignored: [because not directly in the directory',
    });
    const result = await kvlar(['validate', '--policy', '.'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout:
        "✓ Policy 'other' is valid (0 rules)\n✓ Policy 'my-policy' is valid (3 rules)\n  2 policies validated\n",
      stderr: '',
    });
  });

  it('warns and exits 1 when a directory holds no policies', async () => {
    const dir = await tempDir({ 'only.test.yaml': 'tests: []\n' });
    const result = await kvlar(['validate', '-p', dir], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `⚠ No .yaml or .yml files found in .\n`,
    });
  });

  it('reports a file that does not exist and exits 1', async () => {
    const dir = await tempDir();
    const result = await kvlar(['validate', '-p', 'missing.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'missing.yaml: error: cannot read policy: no such file or directory\n',
    );
  });

  it('prints --json with every file, its rule count and its issues', async () => {
    const dir = await tempDir({ 'a.yaml': POLICY, 'b.yaml': 'name: b\nversion: "1"\nrulez: []\n' });
    const result = await kvlar(['validate', '-p', '.', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      policies: [
        { file: 'a.yaml', valid: true, name: 'my-policy', version: '1.0', rules: 3, issues: [] },
        {
          file: 'b.yaml',
          valid: false,
          name: null,
          version: null,
          rules: null,
          issues: expect.arrayContaining([
            {
              code: 'unknown_key',
              severity: 'error',
              message: 'unknown key "rulez" (did you mean "rules"?)',
              file: 'b.yaml',
              line: 3,
              column: 1,
              path: ['rulez'],
            },
          ]),
        },
      ],
    });
  });

  it('prints --json for a single valid file with exit 0', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY });
    const result = await kvlar(['validate', '-p', 'p.yaml', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `${JSON.stringify(
        {
          valid: true,
          policies: [
            {
              file: 'p.yaml',
              valid: true,
              name: 'my-policy',
              version: '1.0',
              rules: 3,
              issues: [],
            },
          ],
        },
        null,
        2,
      )}\n`,
    );
  });
});

import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, kvlar, lines, type RunResult, tempDir, writeFiles } from './helpers.js';

/** The templates the built binary ships (what `kvlar init` offers), not the repository's. */
const SHIPPED = join(dirname(BIN), 'policies');
const TEMPLATES = readdirSync(SHIPPED)
  .filter((name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml'))
  .map((name) => name.slice(0, -'.yaml'.length))
  .sort();

describe('kvlar init', () => {
  it('ships the Rust templates, and more', () => {
    const rust = ['default', 'strict', 'permissive', 'filesystem', 'postgres', 'github', 'slack'];
    expect(TEMPLATES).toEqual(expect.arrayContaining([...rust, 'shell']));
  });

  it.each(TEMPLATES)(
    'writes the %s template and starter tests that pass at once',
    async (template) => {
      const dir = await tempDir();
      const init = await kvlar(['init', '-d', 'out', '--template', template], { cwd: dir });
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(readFileSync(join(dir, 'out/policy.yaml'), 'utf8')).toBe(
        readFileSync(join(SHIPPED, `${template}.yaml`), 'utf8'),
      );
      const tests = readFileSync(join(dir, 'out/policy.test.yaml'), 'utf8');
      expect(tests).toMatch(/^policy: policy\.yaml$/m);
      const run = await kvlar(['test', '-f', 'out'], { cwd: dir });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Tests {7}\d+ passed \(\d+\)$/m);
    },
  );

  it('prints what it wrote and what to do next', async () => {
    const dir = await tempDir();
    const result = await kvlar(['init', '-d', 'my policies'], { cwd: dir });
    const testCount = (
      readFileSync(join(SHIPPED, 'default.test.yaml'), 'utf8').match(/- id:/g) ?? []
    ).length;
    const inspect = await kvlar(['inspect', '-p', join(SHIPPED, 'default.yaml'), '--json'], {
      cwd: dir,
    });
    const ruleCount = JSON.parse(inspect.stdout).rules.length;
    expect(result).toEqual({
      code: 0,
      stdout: [
        `✓ Created my policies/policy.yaml (default template, ${ruleCount} rules)`,
        `✓ Created my policies/policy.test.yaml (${testCount} tests)`,
        '',
        'Next steps:',
        '  1. Review your policy:      my policies/policy.yaml',
        "  2. Run its tests:           kvlar test -f 'my policies'",
        `  3. Secure your MCP servers: kvlar wrap --policy '${join(dir, 'my policies', 'policy.yaml')}'`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('replaces the shipped header of the test file with one about the new place', async () => {
    const dir = await tempDir();
    await kvlar(['init', '-d', '.', '--template', 'slack'], { cwd: dir });
    const text = readFileSync(join(dir, 'policy.test.yaml'), 'utf8');
    expect(text.startsWith('# Tests for policy.yaml, from the built-in "slack" template.\n')).toBe(
      true,
    );
    expect(text).not.toContain('slack.yaml');
  });

  it('writes to ~/.kvlar by default, creating it readable by its owner only', async () => {
    const home = await tempDir();
    const elsewhere = await tempDir();
    const result = await kvlar(['init'], { cwd: elsewhere, env: { HOME: home } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✓ Created ${join(home, '.kvlar', 'policy.yaml')} (default`);
    expect(existsSync(join(home, '.kvlar', 'policy.test.yaml'))).toBe(true);
    if (process.platform !== 'win32') {
      expect(statSync(join(home, '.kvlar')).mode & 0o777).toBe(0o700);
    }
  });

  it('writes to $KVLAR_HOME by default when it is set, as the run registry does', async () => {
    const home = await tempDir();
    const result = await kvlar(['init', '--template', 'strict'], {
      cwd: home,
      env: { HOME: join(home, 'unused'), KVLAR_HOME: 'kv' },
    });
    expect(result.code).toBe(0);
    expect(existsSync(join(home, 'kv', 'policy.yaml'))).toBe(true);
    expect(existsSync(join(home, 'unused'))).toBe(false);
  });

  it('refuses to overwrite a policy, names it, and writes nothing', async () => {
    const dir = await tempDir({ 'out/policy.yaml': 'mine\n' });
    const result = await kvlar(['init', '-d', 'out'], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: out/policy.yaml already exists: nothing was written (pass --force to overwrite it, or -d DIR to write elsewhere)\n',
    });
    expect(readFileSync(join(dir, 'out/policy.yaml'), 'utf8')).toBe('mine\n');
    expect(readdirSync(join(dir, 'out'))).toEqual(['policy.yaml']);
  });

  it('refuses to overwrite the test file alone too', async () => {
    const dir = await tempDir({ 'policy.test.yaml': 'mine\n' });
    const result = await kvlar(['init', '-d', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: policy.test.yaml already exists: nothing was written');
    expect(readdirSync(dir)).toEqual(['policy.test.yaml']);
  });

  it('names both files when both exist', async () => {
    const dir = await tempDir({ 'policy.yaml': 'a\n', 'policy.test.yaml': 'b\n' });
    const result = await kvlar(['init', '-d', '.'], { cwd: dir });
    expect(result.stderr).toContain(
      'error: policy.yaml and policy.test.yaml already exist: nothing was written (pass --force to overwrite them',
    );
  });

  it('overwrites both with --force and says so', async () => {
    const dir = await tempDir({ 'policy.yaml': 'a\n', 'policy.test.yaml': 'b\n' });
    const result = await kvlar(['init', '-d', '.', '--template', 'permissive', '--force'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✓ Wrote policy\.yaml \(permissive template, \d+ rules\)$/m);
    expect(readFileSync(join(dir, 'policy.yaml'), 'utf8')).toBe(
      readFileSync(join(SHIPPED, 'permissive.yaml'), 'utf8'),
    );
    expect(readdirSync(dir).sort()).toEqual(['policy.test.yaml', 'policy.yaml']);
    expect((await kvlar(['test', '-f', '.'], { cwd: dir })).code).toBe(0);
  });

  it.runIf(process.platform !== 'win32')(
    'writes a linked policy through its link with --force, keeping the link and the mode',
    async () => {
      const dir = await tempDir({ 'dotfiles/policy.yaml': 'a\n', 'out/policy.test.yaml': 'b\n' });
      chmodSync(join(dir, 'dotfiles/policy.yaml'), 0o640);
      symlinkSync('../dotfiles/policy.yaml', join(dir, 'out/policy.yaml'));
      const result = await kvlar(['init', '-d', 'out', '--template', 'permissive', '--force'], {
        cwd: dir,
      });
      expect(result.code).toBe(0);
      expect(lstatSync(join(dir, 'out/policy.yaml')).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(dir, 'dotfiles/policy.yaml'), 'utf8')).toBe(
        readFileSync(join(SHIPPED, 'permissive.yaml'), 'utf8'),
      );
      expect(statSync(join(dir, 'dotfiles/policy.yaml')).mode & 0o777).toBe(0o640);
      expect(readdirSync(join(dir, 'dotfiles'))).toEqual(['policy.yaml']);
    },
  );

  it('refuses a directory that is a file', async () => {
    const dir = await tempDir({ out: 'a file\n' });
    const result = await kvlar(['init', '-d', 'out'], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: out exists and is not a directory\n',
    });
  });

  it('refuses an unknown template with a suggestion and the list, writing nothing', async () => {
    const dir = await tempDir();
    const result = await kvlar(['init', '-d', 'out', '--template', 'defualt'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `error: unknown template "defualt" (did you mean "default"?); the templates are ${TEMPLATES.join(', ')}`,
      "Run 'kvlar init --help' for usage.",
    ]);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('lists the templates with the description each one declares', async () => {
    const dir = await tempDir();
    const result = await kvlar(['init', '--list'], { cwd: dir });
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out[0]).toBe('Available kvlar init templates:');
    expect(out.at(-1)).toBe('Usage: kvlar init --template <name>');
    const width = Math.max(...TEMPLATES.map((name) => name.length));
    const description = /^description: (.*)$/m.exec(
      readFileSync(join(SHIPPED, 'strict.yaml'), 'utf8'),
    )?.[1];
    expect(out).toContain(`  ${'strict'.padEnd(width)}  ${description}`);
    expect(out).toHaveLength(TEMPLATES.length + 2);
  });

  it('lists the templates as JSON', async () => {
    const dir = await tempDir();
    const result = await kvlar(['init', '--list', '--json'], { cwd: dir });
    const parsed = JSON.parse(result.stdout);
    expect(parsed.templates.map((template: { name: string }) => template.name)).toEqual(TEMPLATES);
    expect(Object.keys(parsed.templates[0])).toEqual(['name', 'description']);
    expect(parsed.templates[0].description).not.toBe('');
  });

  it('prints what it wrote as JSON', async () => {
    const dir = await tempDir();
    const result = await kvlar(['init', '-d', 'out', '--template', 'github', '--json'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      dir: 'out',
      template: 'github',
      policy: 'out/policy.yaml',
      test: 'out/policy.test.yaml',
      rules: expect.any(Number),
      tests: expect.any(Number),
    });
  });
});

describe('kvlar init with a template that extends another', () => {
  // A copy of the built CLI whose shipped templates include two more: one extending a built-in
  // by name, one extending a file beside it (which cannot work once copied elsewhere).
  const copies: string[] = [];
  afterAll(async () => {
    await Promise.all(copies.map((copy) => rm(copy, { recursive: true, force: true })));
  });

  async function cliWithTemplates(files: Record<string, string>): Promise<string> {
    const copy = await mkdtemp(join(tmpdir(), 'kvlar-cli-copy-'));
    copies.push(copy);
    cpSync(dirname(BIN), join(copy, 'dist'), { recursive: true });
    // The copy's imports (@kvlar/core, citty…) resolve through the package's own node_modules.
    const modules = fileURLToPath(new URL('../node_modules', import.meta.url));
    symlinkSync(modules, join(copy, 'node_modules'), 'junction');
    await writeFiles(join(copy, 'dist', 'policies'), files);
    return join(copy, 'dist', 'bin.js');
  }

  function run(bin: string, args: readonly string[], cwd: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [bin, ...args], { cwd }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        if (code === null) reject(error);
        else resolve({ code, stdout, stderr });
      });
    });
  }

  it('writes a policy whose built-in extends resolve wherever it is', async () => {
    const bin = await cliWithTemplates({
      'team.yaml': [
        'name: team',
        'description: Our rules in front of the default ones',
        'version: "1"',
        'extends: [default]',
        'rules:',
        '  - id: deny-deploy',
        '    match_on: { resources: [deploy] }',
        '    effect: { type: deny, reason: no deploys }',
        '',
      ].join('\n'),
      'team.test.yaml': [
        '# Tests for team.yaml',
        'policy: team.yaml',
        'tests:',
        '  - id: deploy-denied',
        '    action: { resource: deploy }',
        '    expect: deny',
        '    rule: deny-deploy',
        '  - id: bash-denied-by-default',
        '    action: { resource: bash, parameters: { command: ls } }',
        '    expect: deny',
        '    rule: deny-shell',
        '',
      ].join('\n'),
    });
    const dir = await tempDir();
    const init = await run(bin, ['init', '-d', 'out', '--template', 'team'], dir);
    expect(init.stderr).toBe('');
    expect(init.stdout).toMatch(/^✓ Created out\/policy\.yaml \(team template, \d+ rules\)$/m);
    const tested = await run(bin, ['test', '-f', 'out', '--coverage'], dir);
    expect(tested.stderr).toBe('');
    expect(tested.code).toBe(0);
    expect(tested.stdout).toContain('Tests       2 passed (2)');
    expect(tested.stdout).toContain('    · deny-file-delete (from builtin:default)\n');
  });

  it('refuses a template whose extends would not resolve from the new place', async () => {
    const bin = await cliWithTemplates({
      'local.yaml': 'name: local\nversion: "1"\nextends: [./default.yaml]\nrules: []\n',
    });
    const dir = await tempDir();
    const result = await run(bin, ['init', '-d', 'out', '--template', 'local'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('out/policy.yaml:3:');
    expect(result.stderr).toContain('cannot load extends "./default.yaml"');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

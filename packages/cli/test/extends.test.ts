import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, kvlar, tempDir } from './helpers.js';

const policy = (name: string, extendsList: string, ruleId = `${name}-rule`) =>
  `name: ${name}\nversion: "1"\nextends: ${extendsList}\nrules:\n  - id: ${ruleId}\n    match_on: { resources: [${ruleId}] }\n    effect: { type: allow }\n`;
const base = (name: string) =>
  `name: ${name}\nversion: "1"\nrules:\n  - id: ${name}-rule\n    match_on: { resources: [${name}-rule] }\n    effect: { type: allow }\n`;

describe('extends on disk', () => {
  it('resolves a path relative to the extending file first', async () => {
    const dir = await tempDir({
      'team/policy.yaml': policy('team', '[./base.yaml]'),
      'team/base.yaml': base('team-base'),
      'base.yaml': base('wrong-base'),
    });
    const result = await kvlar(['inspect', '-p', 'team/policy.yaml', '--json'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).policies).toEqual([
      { name: 'team', version: '1', file: join('team', 'policy.yaml') },
      { name: 'team-base', version: '1', file: join('team', 'base.yaml') },
    ]);
  });

  it('falls back to the working directory, as the Rust CLI resolved paths', async () => {
    const dir = await tempDir({
      'team/policy.yaml': policy('team', '[shared/base.yaml]'),
      'shared/base.yaml': base('shared'),
    });
    const result = await kvlar(['validate', '-p', 'team/policy.yaml'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: "✓ Policy 'team' is valid\n  Version: 1\n  Rules: 2\n",
      stderr: '',
    });
  });

  it('names a file outside the working directory by its absolute path', async () => {
    const outside = await tempDir({ 'base.yaml': 'name: b\nversion: "1"\nrulez: []\n' });
    const dir = await tempDir({
      'p.yaml': policy('p', `[${JSON.stringify(join(outside, 'base.yaml'))}]`),
    });
    const result = await kvlar(['validate', '-p', 'p.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(outside, 'base.yaml')}:3:1: error: rulez: unknown key`);
  });

  it('loads a policy extended twice through different paths (no false cycle)', async () => {
    const dir = await tempDir({
      'p.yaml': policy('p', '[a.yaml, sub/b.yaml]'),
      'a.yaml': policy('a', '[common.yaml]'),
      'sub/b.yaml': policy('b', '[../common.yaml]'),
      'common.yaml': base('common'),
    });
    const result = await kvlar(['validate', '-p', 'p.yaml'], { cwd: dir });
    expect(result.stdout).toContain('  Rules: 5\n');
    expect(result.code).toBe(0);
  });

  it('detects a cycle however the path to the same file is spelled', async () => {
    const dir = await tempDir({
      'a.yaml': policy('a', '[./sub/../b.yaml]'),
      'b.yaml': policy('b', '[./a.yaml]'),
    });
    const result = await kvlar(['validate', '-p', './a.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('extends cycle: a.yaml → b.yaml → a.yaml');
  });

  it('suggests a built-in template for a misspelt name', async () => {
    const dir = await tempDir({ 'p.yaml': policy('p', '[defualt]') });
    const result = await kvlar(['validate', '-p', 'p.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no built-in template "defualt" (did you mean "default"?)');
  });
});

describe('built-in templates', () => {
  it('ship beside the built binary', () => {
    for (const name of ['default', 'strict', 'permissive']) {
      expect(existsSync(join(BIN, '..', 'policies', `${name}.yaml`))).toBe(true);
    }
  });

  it('are found by name: extends: [default] puts the default rules after your own', async () => {
    const dir = await tempDir({ 'p.yaml': policy('mine', '[default]', 'my-rule') });
    const result = await kvlar(['inspect', '-p', 'p.yaml', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const inspected = JSON.parse(result.stdout);
    expect(inspected.policies.map((part: { file: string }) => part.file)).toEqual([
      'p.yaml',
      'builtin:default',
    ]);
    expect(inspected.rules[0].id).toBe('my-rule');
    expect(inspected.rules.length).toBeGreaterThan(1);
    expect(
      new Set(inspected.rules.slice(1).map((rule: { policy: string }) => rule.policy)),
    ).toEqual(new Set(['default']));
  });

  it('win over a local file of the same name', async () => {
    const dir = await tempDir({
      'p.yaml': policy('mine', '[strict]', 'my-rule'),
      strict: 'not: [a policy',
    });
    const result = await kvlar(['validate', '-p', 'p.yaml'], { cwd: dir });
    expect(result.code).toBe(0);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kvlar, POLICY, tempDir } from './helpers.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

describe('usage errors exit 2 with a pointer to --help', () => {
  it.each([
    [
      ['valdate', '-p', 'p.yaml'],
      "error: unknown command 'valdate' (did you mean 'validate'?)",
      'kvlar',
    ],
    [['constructor'], "error: unknown command 'constructor'", 'kvlar'],
    [
      ['validate', '--polcy', 'p.yaml'],
      "error: unknown flag '--polcy' (did you mean '--policy'?)",
      'kvlar validate',
    ],
    [['validate'], "error: missing required flag '--policy'", 'kvlar validate'],
    [['validate', '-p'], "error: flag '-p' needs a value", 'kvlar validate'],
    [['validate', '-p', '--json'], "error: flag '-p' needs a value", 'kvlar validate'],
    [['validate', '-p', ''], "error: flag '--policy' must not be empty", 'kvlar validate'],
    [
      ['validate', '-p', 'p.yaml', 'extra'],
      "error: unexpected argument 'extra' (kvlar validate takes flags only)",
      'kvlar validate',
    ],
    [
      ['validate', '-p', 'p.yaml', '--json=yes'],
      "error: flag '--json' takes no value",
      'kvlar validate',
    ],
    [['evaluate', '-p', 'p.yaml'], "error: missing required flag '--resource'", 'kvlar evaluate'],
    [['test', '-x'], "error: unknown flag '-x'", 'kvlar test'],
    [['--json'], "error: unknown flag '--json' (flags go after the command)", 'kvlar'],
    [['--version', 'now'], "error: '--version' takes no arguments", 'kvlar'],
  ])('kvlar %j', async (args, message, command) => {
    const dir = await tempDir({ 'p.yaml': POLICY });
    const result = await kvlar(args, { cwd: dir });
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `${message}\nRun '${command} --help' for usage.\n`,
    });
  });

  it('prints the command list on stderr and exits 2 when no command is given', async () => {
    const result = await kvlar([], { cwd: await tempDir() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: kvlar <command> [options]');
  });
});

describe('kvlar version', () => {
  it.each([[['--version']], [['-V']], [['version']]])(
    '%j prints kvlar and the version',
    async (args) => {
      const result = await kvlar(args, { cwd: await tempDir() });
      expect(result).toEqual({ code: 0, stdout: `kvlar ${version}\n`, stderr: '' });
    },
  );

  it('prints {"version"} with --json', async () => {
    const result = await kvlar(['version', '--json'], { cwd: await tempDir() });
    expect(JSON.parse(result.stdout)).toEqual({ version });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const cwd = mkdtempSync(join(tmpdir(), 'kvlar-main-'));
writeFileSync(
  join(cwd, 'p.yaml'),
  'name: p\nversion: "1"\nrules:\n  - id: no\n    match_on: {}\n    effect: { type: deny, reason: no }\n',
);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Runs main in-process with a fake terminal (or pipe) and collects what it writes. */
async function run(argv: string[], options: { tty: boolean; env?: Record<string, string> }) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd,
    env: options.env ?? {},
    stdout: { isTTY: options.tty, write: (text: string) => (stdout += text) },
    stderr: { isTTY: options.tty, write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('main in-process', () => {
  it('colours the decision for a terminal', async () => {
    const result = await run(['evaluate', '-p', 'p.yaml', '--resource', 'x'], { tty: true });
    expect(result.stdout).toBe('\u001b[31m✗ DENY\u001b[39m (rule: no)\n  Reason: no\n');
    expect(result.code).toBe(0);
  });

  it('does not colour a terminal when NO_COLOR is set', async () => {
    const result = await run(['evaluate', '-p', 'p.yaml', '--resource', 'x'], {
      tty: true,
      env: { NO_COLOR: '1' },
    });
    expect(result.stdout).toBe('✗ DENY (rule: no)\n  Reason: no\n');
  });

  it('returns the exit code instead of exiting the process', async () => {
    const result = await run(['nope'], { tty: false });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'nope'");
  });

  it('reports an unexpected failure as an internal error with exit 1', async () => {
    const result = await main(['version'], {
      cwd,
      env: {},
      stdout: {
        write: () => {
          throw new Error('disk on fire');
        },
      },
      stderr: { write: () => true },
    });
    expect(result).toBe(1);
  });
});

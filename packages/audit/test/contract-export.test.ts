import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const THIRD_PARTY = 'test/third-party/array-sink.contract.mjs';

/** `node --test` on the third-party sink, importing the built `@kvlar/audit/contract`. */
function runContract(
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', THIRD_PARTY], {
      cwd: PACKAGE,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('@kvlar/audit/contract', () => {
  it('runs under node:test against a sink written outside the package, and passes it', async () => {
    const { code, out } = await runContract();
    expect(out).toContain('# pass 6');
    expect(out).toContain('# fail 0');
    expect(code).toBe(0);
  });

  it('fails that sink when it forgets to redact', async () => {
    const { code, out } = await runContract({ KVLAR_BROKEN_SINK: 'redaction' });
    expect(out).toMatch(/not ok \d+ - redacts secrets before they reach the output/);
    expect(out).toContain('# fail 1');
    expect(code).not.toBe(0);
  });
});

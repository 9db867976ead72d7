import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against each package's TypeScript source; the CLI's process tests use dist.
    conditions: ['source'],
  },
  // Tests run in Vite's server environment, whose conditions are these: without `source` here a
  // test importing another package (@kvlar/audit from a proxy test) got that package's dist.
  // The rest are Vite's defaults for that environment (its `defaultServerConditions`).
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'docs/test/*.test.ts'],
    testTimeout: 20_000,
  },
});

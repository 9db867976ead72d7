import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The shipped templates travel with the binary: `extends: [default]` and `kvlar init` read them.
  onSuccess: async () => {
    cpSync('../../policies', 'dist/policies', { recursive: true });
  },
});

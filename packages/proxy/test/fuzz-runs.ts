/**
 * The fuzzers' settings: a fixed seed and a quick run count in CI; `pnpm fuzz` (or
 * KVLAR_FUZZ_RUNS / KVLAR_FUZZ_SEED) runs them longer or from another seed.
 */
export function fuzzSettings(seed: number, runs: number): { seed: number; numRuns: number } {
  const longer = Number(process.env.KVLAR_FUZZ_RUNS);
  const other = Number(process.env.KVLAR_FUZZ_SEED);
  return {
    seed: Number.isSafeInteger(other) && process.env.KVLAR_FUZZ_SEED !== undefined ? other : seed,
    numRuns: Number.isSafeInteger(longer) && longer > 0 ? longer : runs,
  };
}

/** A test's time limit: none when the run count was raised on purpose. */
export function fuzzTimeout(ms: number): number {
  return process.env.KVLAR_FUZZ_RUNS === undefined ? ms : 0;
}

/**
 * A small timing harness: calibrate a batch size, warm up, then time many batches. Each sample
 * is one batch's nanoseconds per call, so the median is robust to noise and the p99 shows the
 * batches a GC pause or a noisy neighbour landed in.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

const now = process.hrtime.bigint;

/**
 * Nanoseconds per call, roughly: `run(n)` doubles until it takes a few milliseconds, then runs
 * at that size a few more times and keeps the fastest, since a descheduled or unoptimised run
 * reads far too slow.
 */
export function calibrate(run) {
  const timed = (n) => {
    const start = now();
    run(n);
    return Number(now() - start);
  };
  let n = 1;
  while (timed(n) < 5e6) n *= 2;
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 5; attempt++) best = Math.min(best, timed(n) / n);
  return best;
}

/** Runs `run` for about `durationNs`, untimed, so the JIT has settled before sampling. */
export function warmUp(run, batchSize, durationNs) {
  const end = now() + BigInt(Math.round(durationNs));
  while (now() < end) run(batchSize);
}

/** Appends ns/call samples, one per batch of `batchSize` calls, for about `durationNs`. */
export function sample(run, batchSize, durationNs, samples) {
  const end = now() + BigInt(Math.round(durationNs));
  for (;;) {
    const start = now();
    run(batchSize);
    const stop = now();
    samples.push(Number(stop - start) / batchSize);
    if (stop >= end) return;
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  const median = percentile(sorted, 50);
  return {
    medianNs: median,
    p99Ns: percentile(sorted, 99),
    decisionsPerSecond: 1e9 / median,
    samples: sorted.length,
  };
}

export function median(values) {
  return percentile(Float64Array.from(values).sort(), 50);
}

/** What the numbers were measured on (shared by the engine and proxy benchmarks). */
export function machineFacts() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    if (line !== undefined) cpuModel = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: os.cpus() is the best we have.
  }
  return {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    // Other work on the machine moves every number; the load says how busy it was.
    loadAverageAtStart: Number(os.loadavg()[0].toFixed(2)),
  };
}

#!/usr/bin/env node
import { capYoungGeneration, raiseMallocThresholds } from './heap.js';
import { restartWithStartSettings } from './restart.js';

// First: `kvlar proxy` may start again as the same process, with settings read only at start.
restartWithStartSettings();
// Before anything else is loaded: module loading alone grows the young generation to 16 MiB,
// and may free the first large block, which sets glibc's thresholds for the whole run.
capYoungGeneration();
raiseMallocThresholds();
const { main } = await import('./main.js');

// `kvlar schema | head -1` closes stdout early: that is the reader's choice, not our failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

// exitCode rather than exit(): pending writes to a pipe are flushed before Node exits.
process.exitCode = await main(process.argv.slice(2));

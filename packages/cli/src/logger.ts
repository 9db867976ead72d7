import { type ConsolaInstance, type ConsolaReporter, createConsola, LogLevels } from 'consola/core';

/**
 * Diagnostics go to stderr, always: stdout carries results (and JSON-RPC in proxy mode), and
 * consola's default reporters would print to stdout. The reporter prints each message as written
 * (no badges, no dates) so that `file:line:column: error: …` lines stay one parseable line.
 */
export function createLogger(
  stderr: { write(text: string): unknown },
  options: { debug: boolean },
): ConsolaInstance {
  const reporter: ConsolaReporter = {
    log(entry) {
      stderr.write(`${entry.args.map(String).join(' ')}\n`);
    },
  };
  return createConsola({
    level: options.debug ? LogLevels.debug : LogLevels.info,
    reporters: [reporter],
    // consola collapses repeated identical lines after a delay: issues must all print, in order.
    throttle: 0,
  });
}

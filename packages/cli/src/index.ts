/**
 * @kvlar/cli: the `kvlar` command, and the file-system pieces other packages embedding Kvlar
 * need: a PolicyLoader that resolves `extends` on disk, and a policy-file reader.
 */
export { CliError, type CliErrorCode, ExitCode } from './errors.js';
export { loadPolicyFile, type PolicyFileResult } from './load-policy.js';
export { createFileLoader, type FileLoaderOptions } from './loader.js';
export { main } from './main.js';
export type { Io, Output } from './runtime.js';

import {
  type Issue,
  type PolicyLoader,
  parsePolicy,
  type ResolvedPolicy,
  resolvePolicy,
} from '@kvlar/core';
import { absoluteFrom, displayPath } from './paths.js';
import { readTextFile } from './read-text.js';

export type PolicyFileResult =
  | {
      readonly ok: true;
      readonly file: string;
      readonly policy: ResolvedPolicy;
      readonly warnings: readonly Issue[];
    }
  | { readonly ok: false; readonly file: string; readonly issues: readonly Issue[] };

/**
 * Reads, parses and resolves (`extends`) the policy at `path` (relative to `cwd`). Never throws:
 * a file that cannot be read is one more issue, named like the parser's.
 */
export function loadPolicyFile(
  path: string,
  context: { readonly cwd: string; readonly loader: PolicyLoader },
): PolicyFileResult {
  const file = displayPath(absoluteFrom(context.cwd, path), context.cwd);
  const read = readFileAsIssue(absoluteFrom(context.cwd, path), file, 'policy');
  if (!read.ok) return { ok: false, file, issues: [read.issue] };
  const parsed = parsePolicy(read.text, { file });
  if (!parsed.ok) return { ok: false, file, issues: parsed.issues };
  const resolved = resolvePolicy(parsed.policy, context.loader);
  if (!resolved.ok) return { ok: false, file, issues: resolved.issues };
  return { ok: true, file, policy: resolved.policy, warnings: parsed.warnings };
}

/** A file's text, or an Issue naming it (with line and column when the bytes are not UTF-8). */
export function readFileAsIssue(
  absolute: string,
  file: string,
  what: string,
): { ok: true; text: string } | { ok: false; issue: Issue } {
  const read = readTextFile(absolute);
  if (read.ok) return read;
  const issue: Issue = {
    code: read.code,
    severity: 'error',
    message: read.code === 'not_utf8' ? read.message : `cannot read ${what}: ${read.message}`,
    file,
    path: [],
    ...(read.line === undefined ? {} : { line: read.line }),
    ...(read.column === undefined ? {} : { column: read.column }),
  };
  return { ok: false, issue };
}

/** `-p, --policy FILE`, as the commands that read one policy declare it. */
export const policyFileArg = {
  type: 'string',
  alias: 'p',
  required: true,
  valueHint: 'file',
  description: 'The policy file',
} as const;

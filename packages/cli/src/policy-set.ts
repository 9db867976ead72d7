/**
 * The policies a proxy runs with, loaded as one set: every file given, with everything each one
 * extends. It also names the files read, so a watcher knows what to watch.
 */
import { resolve } from 'node:path';
import {
  createEngine,
  type Engine,
  formatIssue,
  type Issue,
  type PolicyLoader,
  type ResolvedPolicy,
} from '@kvlar/core';
import { type PolicyLoad, policyInfo } from '@kvlar/proxy';
import { loadPolicyFile } from './load-policy.js';

export type PolicySet =
  | {
      readonly ok: true;
      readonly engine: Engine;
      /** Absolute paths of every file read: the policies and what they extend (not built-ins). */
      readonly files: readonly string[];
      readonly warnings: readonly Issue[];
    }
  | { readonly ok: false; readonly issues: readonly Issue[]; readonly files: readonly string[] };

export function loadPolicySet(
  policies: readonly string[],
  context: { readonly cwd: string; readonly loader: PolicyLoader },
): PolicySet {
  const files = new Set<string>(policies.map((policy) => resolve(context.cwd, policy)));
  const loader: PolicyLoader = {
    load(reference, from) {
      const result = context.loader.load(reference, from);
      if (result.ok && !result.file.startsWith('builtin:'))
        files.add(resolve(context.cwd, result.file));
      return result;
    },
  };
  const loaded: ResolvedPolicy[] = [];
  const warnings: Issue[] = [];
  for (const policy of policies) {
    const result = loadPolicyFile(policy, { cwd: context.cwd, loader });
    if (!result.ok) return { ok: false, issues: result.issues, files: [...files] };
    warnings.push(...result.warnings);
    loaded.push(result.policy);
  }
  return { ok: true, engine: createEngine(loaded), files: [...files], warnings };
}

/** The set loaded again, as `watchPolicies` wants it: `kvlar proxy --watch` and `kvlar serve --watch`. */
export function reloadPolicySet(
  policies: readonly string[],
  context: { readonly cwd: string; readonly loader: PolicyLoader },
): PolicyLoad {
  const set = loadPolicySet(policies, context);
  if (!set.ok) {
    return { ok: false, files: set.files, message: set.issues.map(formatIssue).join('\n') };
  }
  return { ok: true, engine: set.engine, files: set.files, hash: policyInfo(set.engine).hash };
}

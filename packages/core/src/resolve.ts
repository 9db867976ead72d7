/**
 * `extends`: a policy's own rules first, then each base's rules in the order listed, recursively,
 * as in the Rust Kvlar. Core does no I/O: the caller's loader turns a reference (a built-in
 * template name or a path) into text. Cycles are an error that names the whole cycle.
 */
import type { CompiledRule } from './compile.js';
import type { Issue } from './issues.js';
import { compiledRulesOf, locateIn, type Policy, parsePolicy } from './policy.js';
import { withFile } from './yaml-source.js';

/** What a `PolicyLoader` found: the text and a unique id for it, or why not. */
export type LoadResult =
  | { readonly ok: true; readonly file: string; readonly text: string }
  | { readonly ok: false; readonly message: string };

/**
 * Reads what `extends` names. Core does no I/O, so the caller provides one: `@kvlar/cli`'s
 * `createFileLoader` reads files and the built-in templates.
 */
export interface PolicyLoader {
  /**
   * Finds `reference` as written in the `extends` of the policy read from `from` (undefined when
   * that policy came from text without a file). `file` must identify the result uniquely (an
   * absolute path, `builtin:NAME`): cycle detection compares it.
   */
  load(reference: string, from: string | undefined): LoadResult;
}

/** A policy with everything it extends, ready for the engine. */
export interface ResolvedPolicy {
  readonly name: string;
  readonly version: string;
  readonly file: string | undefined;
  readonly defaultOutcome: 'allow' | 'deny' | undefined;
  /** The policy itself, then every policy it extends, in evaluation order. */
  readonly policies: readonly Policy[];
  readonly rules: readonly CompiledRule[];
}

/** `resolvePolicy`'s answer: the policy with its bases, or every issue found on the way. */
export type ResolveResult =
  | { readonly ok: true; readonly policy: ResolvedPolicy }
  | { readonly ok: false; readonly issues: readonly Issue[] };

const MAX_DEPTH = 32;

const noLoader: PolicyLoader = {
  load: (reference) => ({ ok: false, message: `no loader was given to resolve "${reference}"` }),
};

/**
 * Follows `extends` through `loader`, recursively, and lays out the rules in evaluation order.
 * Never throws. Without a loader, a policy that extends something fails with `extends_not_found`.
 */
export function resolvePolicy(root: Policy, loader: PolicyLoader = noLoader): ResolveResult {
  const issues: Issue[] = [];
  const policies: Policy[] = [];
  const rules: CompiledRule[] = [];

  const visit = (policy: Policy, chain: readonly string[]): void => {
    policies.push(policy);
    rules.push(...(compiledRulesOf(policy) ?? []));
    const listed = Array.isArray(policy.document.extends);
    policy.extends.forEach((reference, index) => {
      const at = listed ? ['extends', index] : ['extends'];
      const fail = (code: string, message: string): void => {
        issues.push({
          code,
          severity: 'error',
          message,
          path: at,
          ...withFile(policy.file),
          ...locateIn(policy, at),
        });
      };
      const loaded = loader.load(reference, policy.file);
      if (!loaded.ok) {
        fail('extends_not_found', `cannot load extends "${reference}": ${loaded.message}`);
        return;
      }
      if (chain.includes(loaded.file)) {
        const cycle = [...chain.slice(chain.indexOf(loaded.file)), loaded.file].join(' → ');
        fail('extends_cycle', `extends cycle: ${cycle}`);
        return;
      }
      if (chain.length >= MAX_DEPTH) {
        fail('extends_too_deep', `extends nest deeper than ${MAX_DEPTH} levels`);
        return;
      }
      const parsed = parsePolicy(loaded.text, { file: loaded.file });
      if (!parsed.ok) {
        issues.push(...parsed.issues);
        return;
      }
      visit(parsed.policy, [...chain, loaded.file]);
    });
  };

  visit(root, root.file === undefined ? [] : [root.file]);
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    policy: {
      name: root.name,
      version: root.version,
      file: root.file,
      defaultOutcome: root.defaultOutcome,
      policies,
      rules,
    },
  };
}

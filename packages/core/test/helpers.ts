import {
  createEngine,
  type Engine,
  formatIssue,
  type Policy,
  type PolicyDocument,
  type PolicyLoader,
  parsePolicy,
  type ResolvedPolicy,
  resolvePolicy,
  validatePolicy,
} from '../src/index.js';

/** Parses YAML that must be valid; a test that feeds it bad YAML fails with the issues shown. */
export function policyFrom(yaml: string, file?: string): Policy {
  const result = parsePolicy(yaml, file === undefined ? {} : { file });
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
  return result.policy;
}

export function resolved(yaml: string, loader?: PolicyLoader, file?: string): ResolvedPolicy {
  const result = resolvePolicy(policyFrom(yaml, file), loader);
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
  return result.policy;
}

export function engineFrom(...yamls: string[]): Engine {
  return createEngine(yamls.map((yaml) => resolved(yaml)));
}

/** An engine over one policy of generated rules, which must be valid (property tests). */
export function engineOf(ruleList: readonly unknown[]): Engine {
  const result = validatePolicy({
    name: 'generated',
    version: '1',
    rules: ruleList,
  } as unknown as PolicyDocument);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return createEngine([result.policy]);
}

/** An in-memory loader: a map from reference to text, identified by the reference itself. */
export function memoryLoader(files: Record<string, string>): PolicyLoader {
  return {
    load(reference) {
      const text = Object.hasOwn(files, reference) ? files[reference] : undefined;
      return text === undefined
        ? { ok: false, message: 'no such file' }
        : { ok: true, file: reference, text };
    },
  };
}

/** A one-rule policy around a `match_on` block written as YAML flow text. */
export function ruleYaml(matchOn: string, effect = '{ type: deny, reason: matched }'): string {
  return `name: test\nversion: "1"\nrules:\n  - id: r\n    match_on: ${matchOn}\n    effect: ${effect}\n`;
}

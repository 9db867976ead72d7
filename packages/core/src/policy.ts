/**
 * Policy files in, validated and compiled policies out. `parsePolicy` never throws: problems come
 * back as issues with file, line, column and path. Validation is strict where the Rust Kvlar was
 * lax: unknown keys, invalid regexes and globs, duplicate rule ids are errors, never ignored.
 */
import { type CompiledRule, compileRules } from './compile.js';
import type { Issue } from './issues.js';
import { isPlainObject } from './json.js';
import { KNOWN_KEYS, type PolicyDocument, PolicySchema, type RuleDocument } from './schema.js';
import { parseYaml, type TextPath, withFile, type YamlSource } from './yaml-source.js';
import { convertZodIssues } from './zod-issues.js';

/** A validated policy file. Its `extends` are not resolved yet: see `resolvePolicy`. */
export interface Policy {
  readonly name: string;
  readonly description: string | undefined;
  readonly version: string;
  readonly extends: readonly string[];
  readonly defaultOutcome: 'allow' | 'deny' | undefined;
  readonly rules: readonly RuleDocument[];
  /** Where it was read from, as the caller named it. */
  readonly file: string | undefined;
  readonly document: PolicyDocument;
}

/** `parsePolicy`'s answer: the policy (with warnings), or every issue found. */
export type PolicyResult =
  | { readonly ok: true; readonly policy: Policy; readonly warnings: readonly Issue[] }
  | { readonly ok: false; readonly issues: readonly Issue[] };

/** Options of `parsePolicy` and `validatePolicy`. */
export interface ParseOptions {
  /** Named in every issue, and the base that relative `extends` are resolved from. */
  readonly file?: string;
}

interface Internals {
  readonly rules: readonly CompiledRule[];
  readonly source: YamlSource | undefined;
}
const internals = new WeakMap<Policy, Internals>();

/** The policy's text fields, where an unquoted `1.0` or `100` is read as written (see TextPath). */
const TEXT_PATHS: readonly TextPath[] = [
  ['name'],
  ['description'],
  ['version'],
  ['extends'],
  ['extends', '*'],
  ['rules', '*', 'id'],
  ['rules', '*', 'description'],
  ['rules', '*', 'effect', 'reason'],
  ...['action_types', 'resources', 'agent_ids', 'servers'].map((key) => [
    'rules',
    '*',
    'match_on',
    key,
    '*',
  ]),
  ['rules', '*', 'match_on', 'parameters', '*'],
];

/**
 * Parses, validates and compiles policy YAML (or JSON) text. Never throws: a problem is an issue
 * with its line and column. `extends` is not followed here; see `resolvePolicy`.
 */
export function parsePolicy(text: string, options: ParseOptions = {}): PolicyResult {
  const parsed = parseYaml(text, options.file, 'policy', TEXT_PATHS);
  if (!parsed.ok) return parsed;
  return validate(parsed.source, options.file);
}

/** Validates a policy given as a value (already parsed JSON, or built in code). */
export function validatePolicy(value: unknown, options: ParseOptions = {}): PolicyResult {
  return validate({ value, locate: () => undefined }, options.file);
}

function validate(source: YamlSource, file: string | undefined): PolicyResult {
  const result = PolicySchema.safeParse(source.value);
  if (!result.success) {
    const issues = convertZodIssues(result.error.issues, {
      source,
      file,
      keysAt,
      branchOf,
      whyNotHere,
    });
    return { ok: false, issues: issues.length > 0 ? issues : [rootIssue(source, file)] };
  }
  // The input itself, not zod's copy: copying through `record[key] = value` turns an own
  // `__proto__` key into a prototype change and drops it, which would widen a rule silently.
  const document = source.value as PolicyDocument;
  const { rules, problems } = compileRules(document, file);
  if (problems.length > 0) {
    return {
      ok: false,
      issues: problems.map((problem) => ({
        ...problem,
        severity: 'error' as const,
        ...withFile(file),
        ...source.locate(problem.path),
      })),
    };
  }
  const policy: Policy = {
    name: document.name,
    description: document.description,
    version: document.version,
    extends: document.extends === undefined ? [] : [document.extends].flat(),
    defaultOutcome: document.default_outcome,
    rules: document.rules,
    file,
    document,
  };
  internals.set(policy, { rules, source });
  return { ok: true, policy, warnings: [] };
}

function rootIssue(source: YamlSource, file: string | undefined): Issue {
  return {
    code: 'wrong_type',
    severity: 'error',
    message: 'expected a policy mapping',
    path: [],
    ...withFile(file),
    ...source.locate([]),
  };
}

/** The compiled rules of a policy made by `parsePolicy` / `validatePolicy`. */
export function compiledRulesOf(policy: Policy): readonly CompiledRule[] | undefined {
  return internals.get(policy)?.rules;
}

/** Where a path inside the policy's document was written, when it came from text. */
export function locateIn(policy: Policy, path: readonly (string | number)[]) {
  return internals.get(policy)?.source?.locate(path);
}

function keysAt(path: readonly (string | number)[]): readonly string[] {
  const last = path.at(-1);
  if (path.length === 0) return KNOWN_KEYS.policy;
  if (path.length === 2 && path[0] === 'rules') return KNOWN_KEYS.rule;
  if (last === 'match_on') return KNOWN_KEYS.match_on;
  if (last === 'effect') return KNOWN_KEYS.effect;
  // The only `value` with keys of its own is the `shell` operator's.
  if (last === 'value') return KNOWN_KEYS.shell;
  return KNOWN_KEYS.condition;
}

function whyNotHere(key: string): string | undefined {
  if (key === 'ignore_case')
    return ': only text operators take ignore_case, not numbers, domains or exists';
  if (['field', 'operator', 'value', 'any', 'all', 'not'].includes(key)) {
    return ': a condition is either a comparison (field, operator, value) or exactly one of any, all, not';
  }
  return undefined;
}

/** Which form a condition meant, by its keys: a comparison (0), `any` (1), `all` (2), `not` (3). */
function branchOf(path: readonly (string | number)[], value: unknown): number | undefined {
  const inConditions = path.includes('conditions');
  if (!inConditions || !isPlainObject(value)) return undefined;
  if ('any' in value) return 1;
  if ('all' in value) return 2;
  if ('not' in value) return 3;
  return 0;
}

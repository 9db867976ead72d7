/**
 * A validated policy document compiled once: name patterns parsed, regexes and globs built,
 * conditions turned into closures. Evaluation then allocates little and never compiles.
 */
import { type CompiledCondition, compileCondition, regexCompiler } from './conditions.js';
import type { Issue } from './issues.js';
import { compactJson, hasOwn, type JsonObject } from './json.js';
import { compileNamePattern, type NamePattern, nameMatches } from './name-pattern.js';
import type { CompiledRegex } from './regex.js';
import type { EffectDocument, PolicyDocument, RuleDocument } from './schema.js';
import type { DecisionType } from './types.js';

export interface CompiledRule {
  readonly id: string;
  /** The policy the rule was written in, and its file when known. */
  readonly policy: string;
  readonly file: string | undefined;
  readonly effect: { readonly type: DecisionType; readonly reason: string | undefined };
  readonly actionTypes: readonly NamePattern[] | undefined;
  readonly resources: readonly NamePattern[] | undefined;
  readonly agentIds: readonly NamePattern[] | undefined;
  readonly servers: readonly NamePattern[] | undefined;
  readonly parameters: readonly (readonly [string, CompiledRegex])[];
  readonly conditions: readonly CompiledCondition[];
  readonly document: RuleDocument;
}

type Problem = Omit<Issue, 'severity' | 'file' | 'line' | 'column'>;

export function compileRules(
  document: PolicyDocument,
  file: string | undefined,
): { rules: CompiledRule[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const rules: CompiledRule[] = [];
  const firstIndexOfId = new Map<string, number>();
  const regexes = regexCompiler();

  document.rules.forEach((rule, index) => {
    const base = ['rules', index] as const;
    const earlier = firstIndexOfId.get(rule.id);
    if (earlier !== undefined) {
      problems.push({
        code: 'duplicate_rule_id',
        message: `duplicate rule id "${rule.id}" (first used by rules[${earlier}])`,
        path: [...base, 'id'],
      });
    } else {
      firstIndexOfId.set(rule.id, index);
    }

    const patterns = (key: 'action_types' | 'resources' | 'agent_ids' | 'servers') => {
      const sources = rule.match_on[key];
      if (sources === undefined) return undefined;
      const compiled: NamePattern[] = [];
      sources.forEach((source, position) => {
        const result = compileNamePattern(source);
        if (result.ok) compiled.push(result.pattern);
        else
          problems.push({
            code: 'invalid_glob',
            message: result.message,
            path: [...base, 'match_on', key, position],
          });
      });
      return compiled;
    };

    const parameters: (readonly [string, CompiledRegex])[] = [];
    for (const [key, source] of Object.entries(rule.match_on.parameters ?? {})) {
      const result = regexes(source, false);
      if (result.ok) parameters.push([key, result.regex]);
      else
        problems.push({
          code: 'invalid_regex',
          message: result.message,
          path: [...base, 'match_on', 'parameters', key],
        });
    }

    const conditions: CompiledCondition[] = [];
    (rule.match_on.conditions ?? []).forEach((condition, position) => {
      const result = compileCondition(
        condition,
        [...base, 'match_on', 'conditions', position],
        regexes,
      );
      if (result.ok) conditions.push(result.condition);
      else problems.push(...result.problems);
    });

    rules.push({
      id: rule.id,
      policy: document.name,
      file,
      effect: effectOf(rule.effect),
      actionTypes: patterns('action_types'),
      resources: patterns('resources'),
      agentIds: patterns('agent_ids'),
      servers: patterns('servers'),
      parameters,
      conditions,
      document: rule,
    });
  });
  return { rules, problems };
}

/**
 * The Rust Kvlar accepted (and ignored) a `reason` on allow, and its allow decisions carry none;
 * keeping that keeps `reason_contains` and `actual_reason` in test results identical.
 */
function effectOf(effect: EffectDocument): CompiledRule['effect'] {
  return { type: effect.type, reason: effect.type === 'allow' ? undefined : effect.reason };
}

/** Whether the rule's name patterns admit these names (the part that can be cached). */
export function namesMatch(
  rule: CompiledRule,
  actionType: string,
  resource: string,
  agentId: string,
  server: string | undefined,
): boolean {
  return (
    anyMatches(rule.actionTypes, actionType) &&
    anyMatches(rule.resources, resource) &&
    anyMatches(rule.agentIds, agentId) &&
    (rule.servers === undefined || (server !== undefined && anyMatches(rule.servers, server)))
  );
}

function anyMatches(patterns: readonly NamePattern[] | undefined, value: string): boolean {
  if (patterns === undefined) return true;
  for (let i = 0; i < patterns.length; i++) if (nameMatches(patterns[i]!, value)) return true;
  return false;
}

/** One `parameters` entry: the argument is present and its text matches the regex. */
export function parameterMatches(
  parameters: JsonObject,
  key: string,
  regex: CompiledRegex,
): boolean {
  const value = hasOwn(parameters, key) ? parameters[key] : undefined;
  if (value === undefined) return false;
  return regex.test(typeof value === 'string' ? value : compactJson(value));
}

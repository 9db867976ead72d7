/**
 * The engine: every rule of every policy in one ordered list, compiled once. `evaluate` is
 * synchronous, pure and deterministic; the first matching rule wins, and no match is a deny.
 *
 * The name checks (action type, tool, agent, server) depend on four strings only, so the list of
 * rules whose names match is memoised per distinct tuple in a bounded map: a server exposes a
 * handful of tools, and each call then only checks the arguments of the rules naming its tool.
 */
import { argumentsMatch, type CompiledRule, namesMatch } from './compile.js';
import { KvlarError } from './errors.js';
import { formatIssue } from './issues.js';
import { isPlainObject, type JsonObject } from './json.js';
import { compiledRulesOf, type Policy, validatePolicy } from './policy.js';
import { type ResolvedPolicy, resolvePolicy } from './resolve.js';
import {
  type Action,
  DEFAULT_ALLOW_RULE,
  DEFAULT_DENY_REASON,
  DEFAULT_DENY_RULE,
  type Decision,
} from './types.js';

export const INVALID_ACTION_RULE = '_invalid_action';

export interface RuleTrace {
  readonly ruleId: string;
  readonly policy: string;
  readonly matched: boolean;
  /** Each check the rule made, in order, and how it came out. */
  readonly checks: readonly string[];
}

export interface Explanation {
  readonly decision: Decision;
  /** The rules considered, in order, up to and including the one that decided. */
  readonly rules: readonly RuleTrace[];
}

export interface Engine {
  evaluate(action: Action): Decision;
  explain(action: Action): Explanation;
  /** The policies loaded, in evaluation order. */
  readonly policies: readonly ResolvedPolicy[];
  /** Every rule, in evaluation order (`_default_allow` entries included). */
  readonly ruleCount: number;
}

export interface EngineOptions {
  /** How many distinct (action type, tool, agent, server) tuples to memoise. Default 4096; 0 turns it off. */
  readonly cacheSize?: number;
}

interface Entry {
  readonly rule: CompiledRule;
  readonly decision: Decision;
}

const MAX_CACHED_NAME_LENGTH = 512;

/**
 * Builds an engine from resolved policies (see `resolvePolicy`), or from policies without
 * `extends`. Throws a KvlarError for a policy it cannot use: misconfiguration is never silent.
 */
export function createEngine(
  policies: readonly (ResolvedPolicy | Policy)[],
  options: EngineOptions = {},
): Engine {
  const resolved = policies.map(toResolved);
  const entries: Entry[] = [];
  for (const policy of resolved) {
    for (const rule of policy.rules) entries.push({ rule, decision: decisionOf(rule) });
    // v0.4: a policy with rules and `default_outcome: allow` allows what its rules did not match.
    if (policy.defaultOutcome === 'allow' && policy.rules.length > 0) {
      const rule = defaultAllowRule(policy);
      entries.push({ rule, decision: decisionOf(rule) });
    }
  }

  // Rules naming their tools exactly are indexed by name; only the others are tried on every tool.
  const byTool = new Map<string, number[]>();
  const anyTool: number[] = [];
  entries.forEach((entry, index) => {
    const resources = entry.rule.resources;
    if (resources === undefined || !resources.every((pattern) => pattern.exact)) {
      anyTool.push(index);
      return;
    }
    for (const name of new Set(resources.map((pattern) => pattern.source))) {
      const list = byTool.get(name);
      if (list === undefined) byTool.set(name, [index]);
      else list.push(index);
    }
  });
  const rulesFor = (resource: string): readonly number[] => {
    const named = byTool.get(resource);
    return named === undefined ? anyTool : mergeSorted(named, anyTool);
  };

  const cacheSize = options.cacheSize ?? 4096;
  const cache = new Map<string, readonly Entry[]>();
  const candidates = (
    actionType: string,
    resource: string,
    agentId: string,
    server: string | undefined,
  ) => {
    const cacheable =
      cacheSize > 0 &&
      actionType.length + resource.length + agentId.length + (server?.length ?? 0) <=
        MAX_CACHED_NAME_LENGTH;
    // Length prefixes keep ("a", "b c") and ("a b", "c") apart whatever the names contain.
    const key = cacheable
      ? `${actionType.length}:${actionType}${resource.length}:${resource}${agentId.length}:${agentId}${server === undefined ? '-' : `${server.length}:${server}`}`
      : '';
    if (cacheable) {
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
    }
    const matching: Entry[] = [];
    for (const index of rulesFor(resource)) {
      const entry = entries[index]!;
      if (namesMatch(entry.rule, actionType, resource, agentId, server)) matching.push(entry);
    }
    if (cacheable) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(key, matching);
    }
    return matching;
  };

  return {
    policies: resolved,
    ruleCount: entries.length,
    evaluate(action) {
      const input = normalizeAction(action);
      if (typeof input === 'string') return invalidAction(input);
      const { actionType, resource, agentId, server, parameters } = input;
      for (const entry of candidates(actionType, resource, agentId, server)) {
        if (argumentsMatch(entry.rule, parameters)) return entry.decision;
      }
      return DEFAULT_DENY;
    },
    explain(action) {
      const input = normalizeAction(action);
      if (typeof input === 'string') return { decision: invalidAction(input), rules: [] };
      const traces: RuleTrace[] = [];
      for (const entry of entries) {
        const trace = traceRule(entry.rule, input);
        traces.push(trace);
        if (trace.matched) return { decision: entry.decision, rules: traces };
      }
      return { decision: DEFAULT_DENY, rules: traces };
    },
  };
}

/** Two ascending index lists as one, in rule order. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

const DEFAULT_DENY: Decision = Object.freeze({
  type: 'deny',
  ruleId: DEFAULT_DENY_RULE,
  reason: DEFAULT_DENY_REASON,
});

function toResolved(policy: ResolvedPolicy | Policy): ResolvedPolicy {
  if ('policies' in policy) return policy;
  if (policy.extends.length > 0) {
    throw new KvlarError(
      'extends_failed',
      `policy "${policy.name}" extends ${policy.extends.join(', ')}: resolve it with resolvePolicy(policy, loader) first`,
    );
  }
  let known = policy;
  if (compiledRulesOf(policy) === undefined) {
    // Built by hand rather than by parsePolicy: validate it the same way, loudly.
    const checked = validatePolicy(
      policy.document,
      policy.file === undefined ? {} : { file: policy.file },
    );
    if (!checked.ok) {
      throw new KvlarError('invalid_policy', checked.issues.map(formatIssue).join('\n'));
    }
    known = checked.policy;
  }
  const result = resolvePolicy(known);
  if (!result.ok) throw new KvlarError('invalid_policy', result.issues.map(formatIssue).join('\n'));
  return result.policy;
}

function decisionOf(rule: CompiledRule): Decision {
  const decision: Decision = {
    type: rule.effect.type,
    ruleId: rule.id,
    policy: rule.policy,
    ...(rule.effect.reason === undefined ? {} : { reason: rule.effect.reason }),
  };
  return Object.freeze(decision);
}

function defaultAllowRule(policy: ResolvedPolicy): CompiledRule {
  return {
    id: DEFAULT_ALLOW_RULE,
    policy: policy.name,
    file: policy.file,
    effect: { type: 'allow', reason: undefined },
    actionTypes: undefined,
    resources: undefined,
    agentIds: undefined,
    servers: undefined,
    parameters: [],
    conditions: [],
    document: { id: DEFAULT_ALLOW_RULE, match_on: {}, effect: { type: 'allow' } },
  };
}

interface NormalizedAction {
  readonly actionType: string;
  readonly resource: string;
  readonly agentId: string;
  readonly server: string | undefined;
  readonly parameters: JsonObject;
}

const EMPTY: JsonObject = Object.freeze({});

/** The action with defaults filled in, or why the engine cannot classify it. */
function normalizeAction(action: Action): NormalizedAction | string {
  if (!isPlainObject(action)) return 'the action is not an object';
  const { actionType = 'tool_call', resource, agentId = '', server, parameters = EMPTY } = action;
  if (typeof resource !== 'string') return 'the action has no string resource (tool name)';
  if (typeof actionType !== 'string') return 'the action type is not a string';
  if (typeof agentId !== 'string') return 'the agent id is not a string';
  if (server !== undefined && typeof server !== 'string') return 'the server name is not a string';
  if (!isPlainObject(parameters)) return 'the arguments are not an object';
  return { actionType, resource, agentId, server, parameters };
}

function invalidAction(why: string): Decision {
  return { type: 'deny', ruleId: INVALID_ACTION_RULE, reason: `denied: ${why}` };
}

function traceRule(rule: CompiledRule, action: NormalizedAction): RuleTrace {
  const checks: string[] = [];
  let matched = true;
  const names = (label: string, patterns: CompiledRule['resources'], value: string | undefined) => {
    if (!matched || patterns === undefined) return;
    const hit = value !== undefined && patterns.some((pattern) => pattern.test(value));
    const list = patterns.map((pattern) => pattern.source).join(', ');
    checks.push(
      `${label} [${list}] ${hit ? 'matches' : 'does not match'} ${value === undefined ? '(none)' : JSON.stringify(value)}`,
    );
    matched = hit;
  };
  names('action_types', rule.actionTypes, action.actionType);
  names('resources', rule.resources, action.resource);
  names('agent_ids', rule.agentIds, action.agentId);
  names('servers', rule.servers, action.server);
  for (const [key, regex] of rule.parameters) {
    if (!matched) break;
    const single = { ...rule, parameters: [[key, regex] as const], conditions: [] };
    const hit = argumentsMatch(single, action.parameters);
    checks.push(`parameters.${key} ~ /${regex.source}/: ${hit}`);
    matched = hit;
  }
  for (const condition of rule.conditions) {
    if (!matched) break;
    checks.push(condition.describe(action.parameters));
    matched = condition.holds(action.parameters);
  }
  if (checks.length === 0) checks.push('matches everything');
  return { ruleId: rule.id, policy: rule.policy, matched, checks };
}

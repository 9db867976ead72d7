/**
 * The engine: every rule of every policy in one ordered list, compiled once. `evaluate` is
 * synchronous, pure and deterministic; the first matching rule wins, and no match is a deny.
 *
 * The name checks (action type, tool, agent, server) depend on four strings only, so the list of
 * rules whose names match is memoised per distinct tuple in a bounded map: a server exposes a
 * handful of tools, and each call then only checks the arguments of the rules naming its tool.
 * Before the first of those rules to read a dotted field, the list holds a guard for it (see
 * `AMBIGUOUS_FIELD_RULE`): a tool whose rules read none is checked exactly as before.
 */
import { type CompiledRule, namesMatch, parameterMatches } from './compile.js';
import { ambiguityTest } from './conditions.js';
import { KvlarError } from './errors.js';
import { formatIssue } from './issues.js';
import { compactJson, isPlainObject, type JsonObject } from './json.js';
import { type NamePattern, nameMatches } from './name-pattern.js';
import { compiledRulesOf, type Policy, validatePolicy } from './policy.js';
import { type ResolvedPolicy, resolvePolicy } from './resolve.js';
import {
  type Action,
  DEFAULT_ALLOW_RULE,
  DEFAULT_DENY_REASON,
  DEFAULT_DENY_RULE,
  type Decision,
} from './types.js';

/** The rule id of the deny for an action the engine cannot classify (not a valid `Action`). */
export const INVALID_ACTION_RULE = '_invalid_action';

/**
 * The rule id of the deny for arguments that give a dotted field two different values: a key
 * literally named `target.path` and a nested `target` → `path`. A rule would read one of them,
 * the server may act on the other, so neither can be trusted. The engine asks just before the
 * first rule (in evaluation order, among those whose names match) that reads the field: rules
 * before it do not read it, so their decisions cannot depend on which one the server reads. Two
 * equal values are not ambiguous.
 */
export const AMBIGUOUS_FIELD_RULE = '_ambiguous_field';

/** How one rule fared in `Engine.explain`. */
export interface RuleTrace {
  readonly ruleId: string;
  readonly policy: string;
  readonly matched: boolean;
  /** Each check the rule made, in order, and how it came out. */
  readonly checks: readonly string[];
}

/** What `Engine.explain` returns: the decision `evaluate` would return, and how it was reached. */
export interface Explanation {
  readonly decision: Decision;
  /** The rules considered, in order, up to and including the one that decided. */
  readonly rules: readonly RuleTrace[];
}

/** A compiled set of policies (see `createEngine`). Every method is synchronous and pure. */
export interface Engine {
  /**
   * The decision for an action: the first matching rule's, else `_default_deny`. Never throws.
   * It denies an action it cannot classify (`_invalid_action`), and one whose arguments give a
   * dotted field two different values once it comes to a rule that reads it (`_ambiguous_field`).
   */
  evaluate(action: Action): Decision;
  /** `evaluate`, with a trace of the rules considered and their checks (slower; for people). */
  explain(action: Action): Explanation;
  /**
   * Whether some loaded rule names this action type in `match_on.action_types` by a pattern other
   * than the bare catch-all `*` (`resource_read`, `resource_*` and `[rs]*` all count for
   * `resource_read`). Rules without `action_types`, or with only `*`, do not count.
   *
   * The proxy asks this before evaluating a non-tool kind of MCP message: a policy that never
   * names the kind keeps it forwarded unevaluated, as in the Rust Kvlar.
   */
  governs(actionType: string): boolean;
  /**
   * The deny decision when this action (action type, tool, agent, server) is denied whatever its
   * arguments, else `undefined`. Conservative: `undefined` whenever some arguments might reach an
   * allow or a require_approval, even if none actually can.
   *
   * The decision is the one `evaluate` returns for the action with no arguments when a rule
   * without argument checks decides it (or `_default_deny`); an action `evaluate` cannot classify
   * gets its `_invalid_action` deny. The proxy uses it to hide from `tools/list` the tools an
   * agent can never call. Any `parameters` on the action are ignored. (`_ambiguous_field` only
   * denies more, so it cannot make an answer here wrong.)
   */
  alwaysDenies(action: Omit<Action, 'parameters'>): Decision | undefined;
  /** The policies loaded, in evaluation order. */
  readonly policies: readonly ResolvedPolicy[];
  /** Every rule, in evaluation order (`_default_allow` entries included). */
  readonly ruleCount: number;
}

/** Tuning for `createEngine`; decisions do not depend on it. */
export interface EngineOptions {
  /** How many distinct (action type, tool, agent, server) tuples to memoise. Default 4096; 0 turns it off. */
  readonly cacheSize?: number;
}

interface Entry {
  readonly rule: CompiledRule;
  readonly decision: Decision;
  /** The rule's argument checks, conditions first (cheaper), each with its shared slot. */
  readonly checks: readonly Check[];
  /** A guard for each dotted field its conditions read (inside any/all/not too). */
  readonly guards: readonly Guard[];
}

/**
 * A check the engine puts before the first rule that reads a dotted field: whether the arguments
 * give the field two different values. Its one check holds when they do, and then its deny
 * decides. Shaped as an `Entry` without a rule, so that the loops over both stay monomorphic.
 */
interface Guard {
  readonly rule: undefined;
  readonly decision: Decision;
  readonly checks: readonly [Check];
  readonly guards: readonly [];
}

/** What a call tries in turn: rules, each after the guards of the dotted fields it reads first. */
type Step = Entry | Guard;

interface Check {
  readonly slot: number;
  run(parameters: JsonObject): boolean;
}

const MAX_CACHED_NAME_LENGTH = 512;
const NO_SERVER = Symbol('no server');
type Memo = Map<string, Map<string, Map<string, Map<string | symbol, readonly Step[]>>>>;

function setIn<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.set(key, value);
  return value;
}

/**
 * Builds an engine from resolved policies (see `resolvePolicy`), or from policies without
 * `extends`. Throws a KvlarError for a policy it cannot use: misconfiguration is never silent.
 */
export function createEngine(
  policies: readonly (ResolvedPolicy | Policy)[],
  options: EngineOptions = {},
): Engine {
  const resolved = policies.map(toResolved);
  // The same check written in several rules (one regex on `command` for bash and for sh) gets one
  // slot, and each call runs it at most once.
  const slots = new Map<string, number>();
  const slotOf = (key: string) => slots.get(key) ?? setIn(slots, key, slots.size);
  // One guard per distinct field; `null` for a field without dots, which cannot be ambiguous.
  const guards = new Map<string, Guard | null>();
  const guardOf = (field: string): Guard | null => {
    const known = guards.get(field);
    if (known !== undefined) return known;
    const run = ambiguityTest(field);
    const guard: Guard | null =
      run === undefined
        ? null
        : {
            rule: undefined,
            decision: ambiguousField(field),
            checks: [{ slot: slotOf(`a${field}`), run }],
            guards: [],
          };
    return setIn(guards, field, guard);
  };
  const entryOf = (rule: CompiledRule): Entry => {
    const documents = rule.document.match_on.conditions ?? [];
    const checks: Check[] = rule.conditions.map((condition, index) => ({
      slot: slotOf(`c${compactJson(documents[index])}`),
      run: condition.holds,
    }));
    for (const [key, regex] of rule.parameters) {
      checks.push({
        slot: slotOf(`p${JSON.stringify(key)}${regex.source}`),
        run: (parameters) => parameterMatches(parameters, key, regex),
      });
    }
    const ruleGuards: Guard[] = [];
    for (const condition of rule.conditions) {
      for (const field of condition.fields) {
        const guard = guardOf(field);
        if (guard !== null && !ruleGuards.includes(guard)) ruleGuards.push(guard);
      }
    }
    return { rule, decision: decisionOf(rule), checks, guards: ruleGuards };
  };
  const entries: Entry[] = [];
  for (const policy of resolved) {
    for (const rule of policy.rules) entries.push(entryOf(rule));
    // v0.4: a policy with rules and `default_outcome: allow` allows what its rules did not match.
    if (policy.defaultOutcome === 'allow' && policy.rules.length > 0) {
      entries.push(entryOf(defaultAllowRule(policy)));
    }
  }
  // Per-call results of each slot: `stamp` for true, `-stamp` for false, anything else unknown.
  const results = new Int32Array(slots.size);
  let stamp = 0;
  const argumentsHold = (entry: Step, parameters: JsonObject): boolean => {
    const checks = entry.checks;
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i]!;
      const known = results[check.slot]!;
      if (known === stamp) continue;
      if (known === -stamp) return false;
      const holds = check.run(parameters);
      results[check.slot] = holds ? stamp : -stamp;
      if (!holds) return false;
    }
    return true;
  };

  // An index on the tool name: rules naming it exactly, rules whose patterns start or end with
  // its first or last code unit, and rules that may match any tool. Only these are tried.
  const byTool = new Map<string, number[]>();
  const byFirst = new Map<string, number[]>();
  const byLast = new Map<string, number[]>();
  const anyTool: number[] = [];
  const file = (map: Map<string, number[]>, key: string, index: number) => {
    const list = map.get(key) ?? setIn(map, key, []);
    if (list.at(-1) !== index) list.push(index);
  };
  entries.forEach((entry, index) => {
    const resources = entry.rule.resources;
    if (resources === undefined || resources.some((pattern) => pattern.key.kind === 'none')) {
      anyTool.push(index);
      return;
    }
    for (const { key } of resources) {
      if (key.kind === 'exact') file(byTool, key.name, index);
      else if (key.kind === 'first') file(byFirst, key.unit, index);
      else if (key.kind === 'last') file(byLast, key.unit, index);
    }
  });

  // Every (first unit, last unit) pair's lists merged once, here, so that a call merges at most
  // two lists. '' stands for a unit no pattern starts or ends with.
  const firsts = ['', ...byFirst.keys()];
  const lasts = ['', ...byLast.keys()];
  const byEnds = new Map<string, Map<string, readonly number[]>>();
  if (firsts.length * lasts.length <= MAX_END_PAIRS) {
    for (const first of firsts) {
      const row = setIn(byEnds, first, new Map<string, readonly number[]>());
      for (const last of lasts) {
        row.set(
          last,
          mergeInOrder([byFirst.get(first) ?? NONE, byLast.get(last) ?? NONE, anyTool]),
        );
      }
    }
  }
  const patternRulesFor = (resource: string): readonly number[] => {
    const first = resource.slice(0, 1);
    const last = resource.slice(-1);
    const ends =
      byEnds.get(byFirst.has(first) ? first : '')?.get(byLast.has(last) ? last : '') ??
      mergeInOrder([byFirst.get(first) ?? NONE, byLast.get(last) ?? NONE, anyTool]);
    return ends;
  };

  const cacheSize = options.cacheSize ?? 4096;
  // Nested maps keyed by each name: a lookup builds no key string. Cleared whole when full.
  const cache: Memo = new Map();
  let cached = 0;
  const candidates = (
    actionType: string,
    resource: string,
    agentId: string,
    server: string | undefined,
  ): readonly Step[] => {
    const byResource = cache.get(actionType);
    const byAgent = byResource?.get(resource);
    const byServer = byAgent?.get(agentId);
    const hit = byServer?.get(server ?? NO_SERVER);
    if (hit !== undefined) return hit;

    const matching: Step[] = [];
    // Rules naming this tool exactly and rules with patterns for it, walked together in order.
    const named = byTool.get(resource) ?? NONE;
    const patterned = patternRulesFor(resource);
    let a = 0;
    let b = 0;
    while (a < named.length || b < patterned.length) {
      const fromNamed = b >= patterned.length || (a < named.length && named[a]! <= patterned[b]!);
      const index = fromNamed ? named[a++]! : patterned[b++]!;
      // A rule can be in both lists (an exact name and a pattern): try it once.
      if (fromNamed && patterned[b] === index) b++;
      const entry = entries[index]!;
      if (!namesMatch(entry.rule, actionType, resource, agentId, server)) continue;
      // A field's guard goes before the first rule that reads it, so no rule reads it unchecked.
      for (let i = 0; i < entry.guards.length; i++) {
        const guard = entry.guards[i]!;
        if (!matching.includes(guard)) matching.push(guard);
      }
      matching.push(entry);
      // A rule with no argument checks always decides: nothing after it is reachable.
      if (entry.checks.length === 0) break;
    }
    const cacheable =
      cacheSize > 0 &&
      actionType.length + resource.length + agentId.length + (server?.length ?? 0) <=
        MAX_CACHED_NAME_LENGTH;
    if (cacheable) {
      if (cached >= cacheSize) {
        cache.clear();
        cached = 0;
      }
      const level1 = cache.get(actionType) ?? setIn(cache, actionType, new Map());
      const level2 = level1.get(resource) ?? setIn(level1, resource, new Map());
      const level3 = level2.get(agentId) ?? setIn(level2, agentId, new Map());
      level3.set(server ?? NO_SERVER, matching);
      cached++;
    }
    return matching;
  };

  // For `governs`: exact action types in a set, the few glob patterns tried in turn. A bare `*`
  // is left out on purpose: Rust-era rules use it without meaning the kinds added since.
  const governedTypes = new Set<string>();
  const governingGlobs = new Map<string, NamePattern>();
  for (const { rule } of entries) {
    for (const pattern of rule.actionTypes ?? NONE_PATTERNS) {
      if (pattern.exact) governedTypes.add(pattern.source);
      else if (pattern.source !== '*') governingGlobs.set(pattern.source, pattern);
    }
  }
  const globs = [...governingGlobs.values()];

  return {
    policies: resolved,
    ruleCount: entries.length,
    governs(actionType) {
      if (typeof actionType !== 'string') return false;
      if (governedTypes.has(actionType)) return true;
      for (let i = 0; i < globs.length; i++) if (nameMatches(globs[i]!, actionType)) return true;
      return false;
    },
    alwaysDenies(action) {
      // The names alone decide here: whatever arguments came with the action are not asked about.
      const input = normalizeAction(action, false);
      if (typeof input === 'string') return invalidAction(input);
      const { actionType, resource, agentId, server } = input;
      // The memoised candidates stop at the first rule without argument checks, which decides.
      const list = candidates(actionType, resource, agentId, server);
      for (let i = 0; i < list.length; i++) {
        const entry = list[i]!;
        if (entry.checks.length === 0) {
          return entry.decision.type === 'deny' ? entry.decision : undefined;
        }
        // A deny that depends on the arguments (a guard's too) denies or falls through: either
        // way, still denied. Anything else might let some arguments through.
        if (entry.decision.type !== 'deny') return undefined;
      }
      return DEFAULT_DENY;
    },
    evaluate(action) {
      const input = normalizeAction(action);
      if (typeof input === 'string') return invalidAction(input);
      const { actionType, resource, agentId, server, parameters } = input;
      if (stamp === 0x3fffffff) {
        results.fill(0);
        stamp = 0;
      }
      stamp++;
      const list = candidates(actionType, resource, agentId, server);
      for (let i = 0; i < list.length; i++) {
        const entry = list[i]!;
        if (argumentsHold(entry, parameters)) return entry.decision;
      }
      return DEFAULT_DENY;
    },
    explain(action) {
      const input = normalizeAction(action);
      if (typeof input === 'string') return { decision: invalidAction(input), rules: [] };
      // A guard's deny is the engine's own, as `_invalid_action` is: there is no rule to trace.
      const { actionType, resource, agentId, server, parameters } = input;
      for (const step of candidates(actionType, resource, agentId, server)) {
        if (step.rule === undefined) {
          if (step.checks[0].run(parameters)) return { decision: step.decision, rules: [] };
        } else if (step.checks.every((check) => check.run(parameters))) break;
      }
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

const NONE: readonly number[] = [];
const NONE_PATTERNS: readonly NamePattern[] = [];
const MAX_END_PAIRS = 4096;

/** Ascending lists of rule indices as one, in rule order, each index once. */
function mergeInOrder(lists: readonly (readonly number[])[]): readonly number[] {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length === 0) return NONE;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const merged = [...new Set(nonEmpty.flat())];
  return merged.sort((a, b) => a - b);
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

/**
 * The action with defaults filled in, or why the engine cannot classify it. Without
 * `withArguments`, whatever parameters it carries are ignored (and replaced by none).
 */
function normalizeAction(action: Action, withArguments = true): NormalizedAction | string {
  if (!isPlainObject(action)) return 'the action is not an object';
  const { actionType = 'tool_call', resource, agentId = '', server } = action;
  if (typeof resource !== 'string') return 'the action has no string resource (tool name)';
  if (typeof actionType !== 'string') return 'the action type is not a string';
  if (typeof agentId !== 'string') return 'the agent id is not a string';
  if (server !== undefined && typeof server !== 'string') return 'the server name is not a string';
  const parameters = withArguments ? (action.parameters ?? EMPTY) : EMPTY;
  if (!isPlainObject(parameters)) return 'the arguments are not an object';
  return { actionType, resource, agentId, server, parameters };
}

function invalidAction(why: string): Decision {
  return { type: 'deny', ruleId: INVALID_ACTION_RULE, reason: `denied: ${why}` };
}

function ambiguousField(field: string): Decision {
  const nested = field.split('.').join(' → ');
  return Object.freeze({
    type: 'deny',
    ruleId: AMBIGUOUS_FIELD_RULE,
    reason:
      `denied: the arguments give ${JSON.stringify(field)} two different values, as a key of ` +
      `that name and nested (${nested}); the server could act on either`,
  });
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
    const hit = parameterMatches(action.parameters, key, regex);
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
